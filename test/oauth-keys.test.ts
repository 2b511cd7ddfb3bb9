/** Key rotation with tokens in flight: the running provider picks up keys rotated elsewhere. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as oidc from 'openid-client';
import { createLocalJWKSet, jwtVerify, decodeProtectedHeader, type JSONWebKeySet } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, codeFlow, basic, type OAuthFixture } from './oauth/helpers.ts';

await forEachDialect('oauth key rotation', (dialect) => {
  let fx: OAuthFixture;
  before(async () => { fx = await startOAuthService(dialect, { config: { tokens: { keyCheckInterval: 1 } } }); });
  after(async () => { await fx.close(); });

  test('ok: tokens minted before a rotation stay valid; new tokens use the new key', async () => {
    const shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
    const service = await rp(fx.issuer, 'orders-svc', fx.service.secret);
    const { tokens } = await codeFlow(shop, fx.issuer);
    const oldKid = decodeProtectedHeader(tokens.access_token).kid;

    // Another process rotates: only the store changes; this service must notice on its own.
    // Forced: the next key is as young as the service (this test is about the provider noticing).
    const rotated = await fx.svc.service.context.keys.rotate('test', { force: true });
    assert.notEqual(rotated.activeKid, oldKid);
    let newKid: string | undefined;
    for (let i = 0; i < 40 && newKid !== rotated.activeKid; i++) {
      await sleep(100);
      newKid = decodeProtectedHeader((await oidc.clientCredentialsGrant(service, { scope: 'books:read' })).access_token).kid;
    }
    assert.equal(newKid, rotated.activeKid, 'the provider signs with the new key');

    const jwks = await (await fetch(`${fx.issuer}/.well-known/jwks.json`)).json() as JSONWebKeySet;
    const kids = jwks.keys.map((k) => k.kid);
    assert.ok(kids.includes(oldKid), 'the retired key is still published');
    assert.ok(kids.includes(rotated.activeKid));
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
    assert.equal(payload.sub, fx.users.alice);

    const intro = await fetch(`${fx.issuer}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('orders-svc', fx.service.secret) },
      body: new URLSearchParams({ token: tokens.access_token }).toString(),
    });
    assert.equal((await intro.json() as { active: boolean }).active, true);

    // The ID token and a fresh code flow work with the rebuilt provider too.
    const again = await codeFlow(shop, fx.issuer);
    assert.equal(decodeProtectedHeader(again.tokens.access_token).kid, rotated.activeKid);
    assert.equal(decodeProtectedHeader(again.tokens.id_token!).kid, rotated.activeKid);
  });
});
