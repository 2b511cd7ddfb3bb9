/** `gatehouse user apps` / `user disconnect` run as real processes against a running service's data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { runCli } from './helpers/cli.ts';
import { authorizationUrl, Browser } from './oauth/helpers.ts';
import { startThirdPartyFixture, openAuthorization, answerConsent, APP_SCOPE, type ThirdPartyFixture } from './oauth/third-party.ts';

let t: ThirdPartyFixture;
before(async () => { t = await startThirdPartyFixture('sqlite'); });
after(async () => { await t.close(); });

const gatehouse = (args: string[]) => runCli(args, { dataDir: t.fx.svc.dataDir });

test('ok: user apps lists the connected app; user disconnect revokes it (its refresh token fails); a second disconnect is not_found', async () => {
  assert.match(gatehouse(['user', 'apps', 'alice']).stdout, /^\(none\)\n$/);
  const browser = new Browser();
  const started = await authorizationUrl(t.app, { scope: APP_SCOPE, prompt: 'consent' });
  const page = await openAuthorization(browser, t.fx.issuer, started.url);
  const tokens = await oidc.authorizationCodeGrant(t.app, await answerConsent(browser, t.fx.issuer, page.html, 'allow'), { pkceCodeVerifier: started.verifier, expectedState: started.state });

  const table = gatehouse(['user', 'apps', 'alice']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^CLIENT\s+NAME\s+SCOPES\s+GRANTED\n/);
  assert.match(table.stdout, /\nbook-club\s+Book Club\s+\S*orders:read\S*\s+\d{4}-\d\d-\d\dT/);
  const json = JSON.parse(gatehouse(['user', 'apps', 'alice', '--json']).stdout) as Array<{ clientId: string; scopes: string[] }>;
  assert.deepEqual(json.map((app) => app.clientId), ['book-club']);

  const done = gatehouse(['user', 'disconnect', 'alice', 'book-club']);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stdout, /disconnected book-club from alice/);
  await assert.rejects(oidc.refreshTokenGrant(t.app, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
  const row = (await t.fx.svc.service.context.audit.list({ event: 'consent.revoked', latest: true, limit: 1 }))[0];
  assert.equal(row?.actor, 'cli');

  const again = gatehouse(['user', 'disconnect', 'alice', 'book-club']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^gatehouse: .*\(not_found\)\n$/);
});
