/**
 * Per-client-IP refusal limiting (http.refusalLimit) over real HTTP: after `limit` refusals an IP
 * is answered 429 with Retry-After at the OAuth, admin API and PKI endpoints, one `ip.blocked`
 * row is written and nothing else is audited meanwhile; other IPs and successes are unaffected.
 * Each test uses its own client IP (X-Forwarded-For from 127.0.0.1, a trusted proxy: http.trustedProxies); the clock is frozen.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Agent } from 'undici';
import { request } from 'undici';
import { frozenClock } from '../src/shared/clock.ts';
import { randomBytes } from 'node:crypto';
import { startOAuthService, basic, rp, authorizationUrl, Browser, formAction, formField, type OAuthFixture } from './oauth/helpers.ts';
import { tlsAgent, makeCsr } from './helpers/pki.ts';
import { formatJoinToken } from '../src/x509/index.ts';

const LIMIT = 5;
const clock = frozenClock(Date.now());
let fx: OAuthFixture;
let anonymous: Agent;

before(async () => {
  fx = await startOAuthService('sqlite', { clock, config: { http: { trustedProxies: ['127.0.0.1/32'], refusalLimit: LIMIT, refusalWindow: '1m', refusalBlock: '1m' } } });
  anonymous = tlsAgent(await (await fetch(`${fx.svc.url}/pki/bundle.pem`)).text());
});
after(async () => {
  await anonymous.close();
  await fx.close();
});

const audit = () => fx.svc.service.context.audit;
const blockedRows = async (ip: string) => (await audit().list({ event: 'ip.blocked' })).filter((row) => row.ip === ip);
const count = async (event: 'token.refused' | 'admin.denied' | 'enrollment.refused' | 'login.failed') => (await audit().list({ event })).length;

function token(ip: string, secret: string): Promise<Response> {
  return fetch(`${fx.issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('orders-svc', secret), 'x-forwarded-for': ip },
    body: new URLSearchParams({ grant_type: 'client_credentials' }).toString(),
  });
}
const admin = (ip: string) => fetch(`${fx.svc.url}/admin/api/users`, { headers: { authorization: 'Bearer not-a-token', 'x-forwarded-for': ip } });

test('fail-too-many-refusals: after 5 wrong client secrets the right one gets 429 + Retry-After with an OAuth body', async () => {
  const ip = '203.0.113.1';
  for (let i = 0; i < LIMIT; i++) assert.equal((await token(ip, 'wrong-secret')).status, 401);
  const refusedBefore = await count('token.refused');
  // The refusals were audited with the client's address (trusted X-Forwarded-For), not the proxy's.
  const refusals = await audit().list({ event: 'token.refused' });
  assert.equal(refusals.at(-1)!.ip, ip);
  for (let i = 0; i < 3; i++) {
    const res = await token(ip, fx.service.secret);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 59 && Number(res.headers.get('retry-after')) <= 60);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.error, 'invalid_request');
    assert.match(String(body.error_description), /^Too many failed requests from this address; retry after \d+ s$/);
  }
  assert.equal(await count('token.refused'), refusedBefore, 'blocked requests write no token.refused rows');
  const rows = await blockedRows(ip);
  assert.equal(rows.length, 1);
  assert.equal(rows[0]!.reason, 'too_many_refusals');
});

test('ok: another client IP is unaffected by a blocked one', async () => {
  const blocked = '203.0.113.2';
  for (let i = 0; i < LIMIT; i++) await token(blocked, 'wrong-secret');
  assert.equal((await token(blocked, fx.service.secret)).status, 429);
  assert.equal((await token('203.0.113.3', fx.service.secret)).status, 200);
});

test('ok: successes never count (20 good client_credentials requests with limit 5)', async () => {
  const ip = '203.0.113.4';
  for (let i = 0; i < 20; i++) assert.equal((await token(ip, fx.service.secret)).status, 200);
  // Successes did not bring the IP any closer: it still has all its refusals left.
  for (let i = 0; i < LIMIT - 1; i++) assert.equal((await token(ip, 'wrong-secret')).status, 401);
  assert.equal((await token(ip, fx.service.secret)).status, 200);
});

test('fail-too-many-refusals: bad bearer tokens at /admin/api are blocked with a rate_limited problem document', async () => {
  const ip = '203.0.113.5';
  for (let i = 0; i < LIMIT; i++) assert.equal((await admin(ip)).status, 401);
  const deniedBefore = await count('admin.denied');
  const res = await admin(ip);
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const problem = (await res.json()) as Record<string, unknown>;
  assert.equal(problem.code, 'rate_limited');
  assert.equal(problem.status, 429);
  assert.equal(await count('admin.denied'), deniedBefore);
  assert.equal((await blockedRows(ip)).length, 1);
  // The OAuth endpoints share the count: the same IP is blocked there too.
  assert.equal((await token(ip, fx.service.secret)).status, 429);
});

test('fail-too-many-refusals: unknown join tokens at /pki/enroll (TLS listener) are blocked', async () => {
  // Well formed, with the real root fingerprint and a valid CSR: refused only because no such token exists.
  const { rootFingerprint } = await fx.svc.service.context.pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
  const unknown = formatJoinToken(randomBytes(8).toString('hex'), randomBytes(32).toString('base64url'), rootFingerprint);
  const { csr } = await makeCsr();
  const enroll = async () => {
    const res = await request(`${fx.svc.service.tlsUrl}/pki/enroll`, { method: 'POST', dispatcher: anonymous, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: unknown, csr }) });
    return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
  };
  // The TLS listener trusts no proxy: the client is the socket's address.
  const blockedBefore = (await blockedRows('127.0.0.1')).length;
  const refusedAtStart = await count('enrollment.refused');
  for (let i = 0; i < LIMIT; i++) {
    const res = await enroll();
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid_join_token');
  }
  const refusals = (await audit().list({ event: 'enrollment.refused' })).slice(refusedAtStart);
  assert.deepEqual(refusals.map((row) => row.reason), Array(LIMIT).fill('unknown_token'));
  const res = await enroll();
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers['retry-after']) > 0);
  assert.equal(res.body.code, 'rate_limited');
  assert.equal(await count('enrollment.refused'), refusedAtStart + LIMIT, 'the blocked request wrote no enrollment.refused row');
  assert.equal((await blockedRows('127.0.0.1')).length, blockedBefore + 1);
});

test('fail-too-many-refusals: guesses at the sign-in form are blocked with a plain page; the login throttle\'s 429s count too', async () => {
  const ip = '203.0.113.7';
  const shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
  const browser = new Browser();
  const page = await browser.follow((await authorizationUrl(shop)).url.href, fx.issuer);
  const html = await page.res.text();
  const action = new URL(formAction(html, '/login'), fx.issuer).href;
  const guess = (username: string) => browser.fetch(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
    body: new URLSearchParams({ csrf: formField(html, 'csrf'), username, password: 'Wrong-Password-123' }).toString(),
  });
  // One name: past throttle.freeAttempts (3) the login throttle's delay answers 429.
  const statuses = [];
  for (let i = 0; i < LIMIT; i++) statuses.push((await guess('carol-guessed')).status);
  assert.deepEqual(statuses, [401, 401, 401, 401, 429]);
  const failedBefore = await count('login.failed');
  const res = await guess('someone-else');
  assert.equal(res.status, 429);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.match(await res.text(), /Too many failed attempts from this address\. Try again in \d+ seconds\./);
  assert.equal(await count('login.failed'), failedBefore, 'a blocked guess is not even looked at');
  assert.equal((await blockedRows(ip)).length, 1);
});

test('ok: once the block has run out, requests are allowed again', async () => {
  const ip = '203.0.113.6';
  for (let i = 0; i < LIMIT; i++) await token(ip, 'wrong-secret');
  assert.equal((await token(ip, fx.service.secret)).status, 429);
  assert.equal((await admin(ip)).status, 429, 'blocked at the admin API too');
  clock.advance(61_000);
  assert.equal((await token(ip, fx.service.secret)).status, 200);
  assert.equal((await admin(ip)).status, 401, 'the admin API answers again (a bad token is still refused)');
});
