/** Discovery, JWKS, the route table, security headers and the error page at the server. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { forEachDialect } from './helpers/dialects.ts';
import type { AuditEvent } from '../src/events/audit.ts';
import { startOAuthService, rp, authorizationUrl, CALLBACK, auditProbe, type OAuthFixture } from './oauth/helpers.ts';

/** fetch() cannot forge Host; node:http can. */
function getWithHost(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host, 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

await forEachDialect('oauth discovery', (dialect) => {
  let fx: OAuthFixture;
  before(async () => { fx = await startOAuthService(dialect); });
  after(async () => { await fx.close(); });
  const auditHead = () => auditProbe(fx).head();
  const lastAudit = (event: AuditEvent, since: number) => auditProbe(fx).last(event, since);

  test('ok: discovery lists our endpoints, code flow only, S256 only', async () => {
    const res = await fetch(`${fx.issuer}/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const doc = await res.json() as Record<string, unknown>;
    assert.equal(doc.issuer, fx.issuer);
    assert.equal(doc.authorization_endpoint, `${fx.issuer}/oauth2/authorize`);
    assert.equal(doc.token_endpoint, `${fx.issuer}/oauth2/token`);
    assert.equal(doc.userinfo_endpoint, `${fx.issuer}/oauth2/userinfo`);
    assert.equal(doc.introspection_endpoint, `${fx.issuer}/oauth2/introspect`);
    assert.equal(doc.revocation_endpoint, `${fx.issuer}/oauth2/revoke`);
    assert.equal(doc.end_session_endpoint, `${fx.issuer}/oauth2/logout`);
    assert.equal(doc.jwks_uri, `${fx.issuer}/.well-known/jwks.json`);
    assert.deepEqual(doc.response_types_supported, ['code']);
    assert.deepEqual(doc.code_challenge_methods_supported, ['S256']);
    assert.ok(!(doc.grant_types_supported as string[]).includes('implicit'));
    assert.ok(!(doc.grant_types_supported as string[]).includes('password'));
    assert.ok((doc.grant_types_supported as string[]).includes('client_credentials'));
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
    // Every advertised endpoint answers: nothing is announced that is not routed.
    assert.equal(doc.pushed_authorization_request_endpoint, undefined);
    assert.equal(doc.dpop_signing_alg_values_supported, undefined);
    for (const [key, value] of Object.entries(doc)) {
      if (!key.endsWith('_endpoint') && key !== 'jwks_uri') continue;
      const probe = await fetch(String(value), { redirect: 'manual' });
      await probe.arrayBuffer();
      assert.notEqual(probe.status, 404, `${key} ${String(value)} is not routed`);
    }
  });

  test('ok: a forged Host header does not change discovery', async () => {
    const { status, body } = await getWithHost(`${fx.issuer}/.well-known/openid-configuration`, 'evil.example');
    assert.equal(status, 200);
    const doc = JSON.parse(body) as Record<string, string>;
    assert.equal(doc.token_endpoint, `${fx.issuer}/oauth2/token`);
    assert.doesNotMatch(body, /evil\.example/);
  });

  test('ok: JWKS publishes public keys only', async () => {
    const res = await fetch(`${fx.issuer}/.well-known/jwks.json`);
    assert.equal(res.status, 200);
    const { keys } = await res.json() as { keys: Array<Record<string, unknown>> };
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.d, undefined);
      assert.equal(typeof key.kid, 'string');
    }
  });

  test('fail-method: GET /oauth2/token is 405 with an OAuth error, not a bare 404', async () => {
    const res = await fetch(`${fx.issuer}/oauth2/token`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST, OPTIONS');
    assert.equal((await res.json() as { error: string }).error, 'invalid_request');
  });

  test('fail-unregistered-redirect: error page at the server, never a redirect', async () => {
    const config = await rp(fx.issuer, 'shop', fx.firstParty.secret);
    const { url } = await authorizationUrl(config, { redirect_uri: 'https://attacker.example/cb' });
    const since = await auditHead();
    const res = await fetch(url, { redirect: 'manual', headers: { accept: 'text/html' } });
    const row = await lastAudit('authorization.refused', since);
    assert.equal(row.reason, 'invalid_redirect_uri');
    assert.equal(row.clientId, 'shop');
    assert.equal(row.data?.delivery, 'error_page');
    assert.equal(row.data?.redirectUri, 'https://attacker.example/cb');
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    const html = await res.text();
    assert.match(html, /<html lang="en">/);
    assert.match(html, /invalid_redirect_uri/);
    assert.doesNotMatch(html, /\bat .*\.js:\d+/);
  });

  test('fail-unknown-client: error page at the server', async () => {
    const since = await auditHead();
    const res = await fetch(`${fx.issuer}/oauth2/authorize?client_id=nobody&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=openid`, { redirect: 'manual', headers: { accept: 'text/html' } });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('location'), null);
    assert.match(await res.text(), /invalid_client/);
    const row = await lastAudit('authorization.refused', since);
    assert.equal(row.reason, 'invalid_client');
    assert.equal(row.clientId, null);
    assert.equal(row.data?.presentedClientId, 'nobody');
    assert.equal(row.data?.delivery, 'error_page');
  });

  test('fail-implicit: response_type=token is refused', async () => {
    const res = await fetch(`${fx.issuer}/oauth2/authorize?client_id=shop&response_type=token&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=openid`, { redirect: 'manual' });
    const location = res.headers.get('location');
    assert.ok(location, 'the error is reported to the registered redirect URI');
    // Errors for a token response type travel in the fragment.
    assert.equal(new URLSearchParams(new URL(location).hash.slice(1)).get('error'), 'unsupported_response_type');
  });

  test('fail-pkce-missing: authorization without code_challenge is refused', async () => {
    const since = await auditHead();
    const res = await fetch(`${fx.issuer}/oauth2/authorize?client_id=shop&response_type=code&redirect_uri=${encodeURIComponent(CALLBACK)}&scope=openid`, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    assert.equal(location.searchParams.get('error'), 'invalid_request');
    assert.match(location.searchParams.get('error_description') ?? '', /PKCE/);
    const row = await lastAudit('authorization.refused', since);
    assert.equal(row.reason, 'invalid_request');
    assert.equal(row.clientId, 'shop');
    assert.equal(row.data?.delivery, 'redirect');
  });

  test('ok: the stylesheet is served', async () => {
    const res = await fetch(`${fx.issuer}/assets/gatehouse.css`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/css/);
  });
});
