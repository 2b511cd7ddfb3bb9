/**
 * A blocked client stays blocked on every spelling of a limited endpoint (the OAuth endpoints,
 * the admin API, the event endpoints, the sign-in form, enrollment and renewal). fastify routes on the
 * percent-decoded path and accepts absolute-form request targets, so the refusal limiter keys
 * on the route fastify matched: `/oauth2/%74oken`, `http://host/oauth2/token`, `/oauth2/token#x`
 * are the token endpoint (429), while `/oauth2/token/`, `//oauth2/token`, `/oauth2//token` are
 * no route at all (fastify's own 404, no handler). Each request here carries credentials that
 * WOULD succeed at the endpoint, sent over a raw socket so the path goes out exactly as written;
 * none may succeed, none may write an audit row.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { frozenClock } from '../src/shared/clock.ts';
import { startOAuthService, basic, rp, authorizationUrl, Browser, formAction, formField, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';
import { makeCsr } from './helpers/pki.ts';

const LIMIT = 3;
/** Short, so the TLS tests (all from 127.0.0.1) can wait one out without moving the clock far from the certificates' real time. */
const BLOCK_SECONDS = 5;
const clock = frozenClock(Date.now());
let fx: OAuthFixture;
let bundle: string;

before(async () => {
  fx = await startOAuthService('sqlite', { clock, config: { http: { trustedProxies: ['127.0.0.1/32'], refusalLimit: LIMIT, refusalWindow: '1m', refusalBlock: BLOCK_SECONDS }, pki: { trustDomain: 'td.test' } } });
  bundle = await (await fetch(`${fx.svc.url}/pki/bundle.pem`)).text();
});
after(async () => { await fx.close(); });

interface Sent { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; client?: { key: string; cert: string } }
interface Answer { status: number; headers: IncomingHttpHeaders; body: string }

/** One request on a fresh connection, the request target exactly as given. */
function send(listener: 'http' | 'tls', target: string, sent: Sent): Promise<Answer> {
  const base = new URL(listener === 'http' ? fx.svc.url : fx.svc.service.tlsUrl!);
  const options = { host: base.hostname, port: base.port, method: sent.method, path: target, headers: sent.headers, agent: false as const };
  return new Promise((resolve, reject) => {
    const onResponse = (res: import('node:http').IncomingMessage) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode!, headers: res.headers, body: '' });
      }
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    };
    const req = listener === 'http'
      ? httpRequest(options, onResponse)
      : httpsRequest({ ...options, ca: bundle, checkServerIdentity: () => undefined, ...(sent.client ?? {}) }, onResponse);
    req.on('error', reject);
    req.end(sent.body);
  });
}

/** The ways one route can be spelled: the first two reach it in fastify, the rest match no route. */
function spellings(listener: 'http' | 'tls', path: string): string[] {
  const segments = path.split('/');
  const last = segments.at(-1)!;
  const encodedLast = [...segments.slice(0, -1), `%${last.charCodeAt(0).toString(16)}${last.slice(1)}`].join('/');
  const first = segments[1]!;
  const encodedFirst = ['', `%${first.charCodeAt(0).toString(16)}${first.slice(1)}`, ...segments.slice(2)].join('/');
  const origin = listener === 'http' ? fx.svc.url : fx.svc.service.tlsUrl!;
  return [encodedLast, encodedFirst, `${origin}${path}`, `${path}#x`, `${path}/`, `/${path}`, path.replace(/\/([^/]*)$/, '//$1'), path.replace(/\/([^/]*)$/, '/./$1')];
}

const json = { 'content-type': 'application/json' };
const form = { 'content-type': 'application/x-www-form-urlencoded' };

/** A bearer token as the OAuth component mints it, valid at the service's (frozen) time. */
const mint = (claims: Record<string, unknown>) => {
  const now = Math.floor(clock.now() / 1000);
  return fx.svc.service.context.keys.sign({ iss: fx.issuer, aud: fx.issuer, jti: randomUUID(), iat: now, exp: now + 300, ...claims }, { typ: 'at+jwt' });
};

interface Limited {
  listener: 'http' | 'tls';
  path: string;
  /** Sets up what the requests need; returns the path when it is made per test (a sign-in form's). */
  prepare?(): Promise<string>;
  /** The status of an accepted request (default 200). */
  ok?: number;
  /** A request the endpoint refuses (400/401/403): counted. */
  refused(): Promise<Sent>;
  /** A request the endpoint would answer 200 (and act on). */
  accepted(): Promise<Sent>;
}

const clientCredentials = (body: Record<string, string>): Sent => ({ method: 'POST', headers: { ...form, authorization: basic('orders-svc', fx.service.secret) }, body: new URLSearchParams(body).toString() });
const wrongSecret = (body: Record<string, string>): Sent => ({ method: 'POST', headers: { ...form, authorization: basic('orders-svc', 'wrong-secret') }, body: new URLSearchParams(body).toString() });
const joinToken = async () => (await fx.svc.service.context.pki.mintJoinToken({ service: 'orders', createdBy: 'test' })).token;
let workload: { key: string; cert: string } | undefined;
let signIn: { cookie: string; csrf: string } | undefined;
const signInPost = (username: string, password: string): Sent => ({
  method: 'POST', headers: { ...form, cookie: signIn!.cookie }, body: new URLSearchParams({ csrf: signIn!.csrf, username, password }).toString(),
});

const LIMITED: Record<string, Limited> = {
  'token endpoint': { listener: 'http', path: '/oauth2/token', refused: async () => wrongSecret({ grant_type: 'client_credentials' }), accepted: async () => clientCredentials({ grant_type: 'client_credentials' }) },
  'introspection endpoint': { listener: 'http', path: '/oauth2/introspect', refused: async () => wrongSecret({ token: 'x' }), accepted: async () => clientCredentials({ token: 'x' }) },
  'revocation endpoint': { listener: 'http', path: '/oauth2/revoke', refused: async () => wrongSecret({ token: 'x' }), accepted: async () => clientCredentials({ token: 'x' }) },
  'admin API': {
    listener: 'http', path: '/admin/api/users',
    refused: async () => ({ method: 'GET', headers: { authorization: 'Bearer not-a-token' } }),
    accepted: async () => ({ method: 'GET', headers: { authorization: `Bearer ${await mint({ sub: fx.users.bob, client_id: 'admin-console', roles: ['admin'], scope: 'openid admin' })}` } }),
  },
  'event poll': {
    listener: 'http', path: '/events/poll',
    refused: async () => ({ method: 'POST', headers: { ...json, authorization: 'Bearer not-a-token' }, body: '{}' }),
    accepted: async () => ({ method: 'POST', headers: { ...json, authorization: `Bearer ${await mint({ sub: 'orders-svc', client_id: 'orders-svc', scope: 'events:read', roles: [] })}` }, body: JSON.stringify({ returnImmediately: true }) }),
  },
  'event stream': {
    listener: 'http', path: '/events/stream',
    refused: async () => ({ method: 'GET', headers: { authorization: 'Bearer not-a-token' } }),
    accepted: async () => ({ method: 'GET', headers: { authorization: `Bearer ${await mint({ sub: 'orders-svc', client_id: 'orders-svc', scope: 'events:read', roles: [] })}` } }),
  },
  'enrollment endpoint': {
    listener: 'tls', path: '/pki/enroll',
    refused: async () => ({ method: 'POST', headers: json, body: JSON.stringify({ token: 'gh_join_not-a-real-token', csr: 'not a csr' }) }),
    accepted: async () => ({ method: 'POST', headers: json, body: JSON.stringify({ token: await joinToken(), csr: (await makeCsr({ cn: 'orders' })).csr }) }),
  },
  'sign-in form': {
    listener: 'http', path: '/interaction/:uid/login', ok: 303,
    async prepare() {
      const browser = new Browser();
      const page = await browser.follow((await authorizationUrl(await rp(fx.issuer, 'shop', fx.firstParty.secret))).url.href, fx.issuer);
      const html = await page.res.text();
      signIn = { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), csrf: formField(html, 'csrf') };
      return formAction(html, '/login');
    },
    refused: async () => signInPost('nobody-here', 'Wrong-Password-123'),
    accepted: async () => signInPost('alice', PASSWORD),
  },
  'renewal endpoint': {
    listener: 'tls', path: '/pki/renew',
    refused: async () => ({ method: 'POST', headers: json, body: JSON.stringify({ csr: (await makeCsr({ cn: 'orders' })).csr }) }),
    accepted: async () => ({ method: 'POST', headers: json, body: JSON.stringify({ csr: (await makeCsr({ cn: 'orders' })).csr }), client: workload! }),
  },
};

const auditHead = async () => (await fx.svc.service.context.audit.list({ latest: true, limit: 1 }))[0]?.seq ?? 0;
let nextIp = 1;

for (const [name, endpoint] of Object.entries(LIMITED)) {
  test(`fail-blocked: the ${name} stays blocked under every spelling of ${endpoint.path}`, async () => {
    // The TLS listener's clients are all 127.0.0.1: start after an earlier test's block ran out.
    if (endpoint.listener === 'tls') clock.advance((BLOCK_SECONDS + 1) * 1000);
    if (endpoint.path === '/pki/renew') {
      const keyAndCsr = await makeCsr({ cn: 'orders' });
      const enrolled = await send('tls', '/pki/enroll', { method: 'POST', headers: json, body: JSON.stringify({ token: await joinToken(), csr: keyAndCsr.csr }) });
      workload = { key: keyAndCsr.keyPem, cert: (JSON.parse(enrolled.body) as { certificate: string }).certificate };
    }
    const path = endpoint.prepare ? await endpoint.prepare() : endpoint.path;
    const ip = `203.0.113.${nextIp++}`;
    const from = (sent: Sent): Sent => (endpoint.listener === 'http' ? { ...sent, headers: { ...sent.headers, 'x-forwarded-for': ip } } : sent);
    for (let i = 0; i < LIMIT; i++) {
      const res = await send(endpoint.listener, path, from(await endpoint.refused()));
      assert.ok([400, 401, 403].includes(res.status), `refusal ${i + 1} answered ${res.status}`);
    }
    const targets = [path, ...spellings(endpoint.listener, path)];
    const requests = await Promise.all(targets.map(async () => from(await endpoint.accepted())));
    const head = await auditHead();
    for (const [i, target] of targets.entries()) {
      const res = await send(endpoint.listener, target, requests[i]!);
      assert.ok(res.status === 429 || res.status === 404, `${target}: answered ${res.status}`);
      if (res.status === 429) assert.ok(Number(res.headers['retry-after']) > 0, `${target}: Retry-After`);
      // A 404 must be fastify's: the request matched no route, so no handler ran.
      else assert.equal((JSON.parse(res.body) as { code?: string }).code, 'not_found', `${target}: ${res.body}`);
    }
    assert.deepEqual((await fx.svc.service.context.audit.list({ since: 0 })).filter((row) => row.seq > head).map((row) => row.event), [], 'nothing reached a handler: no audit row');
    // The credentials were good: once the block ran out (or from elsewhere) they work.
    if (endpoint.listener === 'http') {
      const accepted = await endpoint.accepted();
      const elsewhere = await send('http', path, { ...accepted, headers: { ...accepted.headers, 'x-forwarded-for': '198.51.100.99' } });
      assert.equal(elsewhere.status, endpoint.ok ?? 200, elsewhere.body);
    } else {
      clock.advance((BLOCK_SECONDS + 1) * 1000);
      const later = await send('tls', path, await endpoint.accepted());
      assert.equal(later.status, endpoint.ok ?? 200, later.body);
    }
  });
}
