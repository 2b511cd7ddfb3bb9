/**
 * No user enumeration through the login form: an unknown username and a wrong password for a
 * real user get the same status, the same page and a similar time (an unknown name is checked
 * against a dummy argon2id hash). The time bound — medians within a factor of 2 — is loose enough
 * never to flake and tight enough to catch a skipped hash (~20 ms of argon2id against ~3 ms).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, authorizationUrl, Browser, formAction, formField, type OAuthFixture } from './oauth/helpers.ts';

const ATTEMPTS = 8;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

await forEachDialect('oauth login timing', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let attempt = 0;

  before(async () => {
    // Throttling is tested elsewhere; here it must not turn the answers into 429s. Each attempt
    // also comes from its own client IP (X-Forwarded-For, trusted in this service).
    fx = await startOAuthService(dialect, { config: { http: { trustedProxies: ['127.0.0.1/32'] }, throttle: { freeAttempts: 1000, lockAfter: 1000 } } });
    shop = await rp(fx.issuer, fx.firstParty.client.clientId, fx.firstParty.secret);
  });
  after(async () => { await fx.close(); });

  /** One form login; returns status, the page with per-request values blanked, and the time of the POST. */
  const login = async (username: string) => {
    attempt += 1;
    const browser = new Browser();
    const page = await browser.follow((await authorizationUrl(shop)).url.href, fx.issuer);
    const html = await page.res.text();
    const action = new URL(formAction(html, '/login'), fx.issuer).href;
    const body = new URLSearchParams({ csrf: formField(html, 'csrf'), username, password: 'Wrong-Password-123' }).toString();
    const started = performance.now();
    const res = await browser.fetch(action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': `10.77.${attempt >> 8}.${attempt & 255}` }, body });
    const text = await res.text();
    const ms = performance.now() - started;
    const normalized = text
      .replaceAll(username, '<username>')
      .replace(/\/interaction\/[A-Za-z0-9_-]+/g, '/interaction/<uid>')
      .replace(/(name="csrf" value=")[^"]*"/g, '$1<csrf>"')
      .replace(/nonce="[^"]*"/g, 'nonce="<nonce>"');
    return { status: res.status, page: normalized, ms };
  };

  test('ok: unknown user and wrong password: same status, same page, similar time', async () => {
    await login('alice');
    await login('warm-up-nobody');
    const wrong: number[] = [];
    const unknown: number[] = [];
    let reference: { status: number; page: string } | undefined;
    for (let i = 0; i < ATTEMPTS; i++) {
      for (const result of [await login('alice'), await login(`nobody-${i}`)]) {
        reference ??= { status: result.status, page: result.page };
        assert.deepEqual({ status: result.status, page: result.page }, reference);
      }
      wrong.push((await login('alice')).ms);
      unknown.push((await login(`ghost-${i}`)).ms);
    }
    assert.equal(reference!.status, 401);
    const ratio = median(unknown) / median(wrong);
    assert.ok(ratio > 0.5 && ratio < 2, `median unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(wrong).toFixed(1)} ms`);
  });
});
