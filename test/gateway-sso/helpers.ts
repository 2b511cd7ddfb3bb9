/**
 * Browser-session fixtures: a real Security Service with alice and the gateway's SSO client, and
 * the session module mounted in a minimal node:http front (`/login`, `/logout` and one protected
 * path that answers what it saw) so the flows run over real HTTP before and beside the gateway.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtDecrypt, jwtVerify } from 'jose';
import { configSchema, type Config } from '../../src/config/index.ts';
import { createBrowserSessions, type BrowserSessions } from '../../src/gateway/session/index.ts';
import type { Logger } from '../../src/shared/logger.ts';
import { silentLogger } from '../../src/shared/logger.ts';
import type { Clock } from '../../src/shared/clock.ts';
import type { GatewayRedis } from '../../src/gateway/redis.ts';
import { startService, freePort, listenOn, type StartOptions, type TestService } from '../helpers/service.ts';
import { Browser, PASSWORD, formAction, formField, post } from '../oauth/helpers.ts';

export const SSO_CLIENT = 'gateway-web';

export interface SsoFixture {
  svc: TestService;
  issuer: string;
  audience: string;
  /** The SSO client's secret. */
  secret: string;
  close(): Promise<void>;
}

/** The Security Service with alice and the gateway's SSO client registered for `publicUrls`. */
export async function startSsoService(publicUrls: string[], options: StartOptions = {}): Promise<SsoFixture> {
  const svc = await startService({ dialect: 'sqlite', ...options });
  const ctx = svc.service.context;
  await ctx.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
  const client = await ctx.oauth.clients.create({
    clientId: SSO_CLIENT,
    name: 'Gateway',
    firstParty: true,
    redirectUris: publicUrls.map((url) => `${url}/login/callback`),
    postLogoutRedirectUris: publicUrls.map((url) => `${url}/`),
    grantTypes: ['authorization_code', 'refresh_token'],
    scope: 'openid profile email offline_access',
  }, 'test');
  return { svc, issuer: svc.config.issuer, audience: svc.config.resources[0]!.audience, secret: client.secret!, close: () => svc.close() };
}

export const newCookieKey = (): Uint8Array => new Uint8Array(randomBytes(32));

/** The gateway's view of the configuration: same issuer and resources as the service. */
export function gatewayConfig(fx: SsoFixture, gateway: Record<string, unknown>): Config {
  return configSchema.parse({
    issuer: fx.issuer,
    resources: fx.svc.config.resources,
    gateway: { ...gateway, sso: { clientId: SSO_CLIENT, ...(gateway.sso as object | undefined) } },
  });
}

/** Where a test reaches a gateway (or the front) and the origin browsers think they use. */
export interface Origin {
  /** Where the test reaches it (http on loopback). */
  url: string;
  /** The gateway's public origin (may be https: requests still go to `url`). */
  publicUrl: string;
}

export interface Front extends Origin {
  sessions: BrowserSessions;
  close(): Promise<void>;
}

export interface FrontOptions {
  /** Public origin; default the front's own http origin. */
  publicUrl?: string;
  sso?: Record<string, unknown>;
  gateway?: Record<string, unknown>;
  cookieKey?: Uint8Array | Uint8Array[];
  clock?: Clock;
  logger?: Logger;
  fetch?: typeof fetch;
  port?: number;
  /** Refreshes shared with other fronts through Redis (as `gateway.redis` does for replicas). */
  redis?: GatewayRedis;
}

/**
 * The session module behind a few lines of node:http, wired the way the gateway's pipeline calls
 * it: its own paths first; `/api/**` needs a token (bearer header, else the session cookie; a
 * cookie-authenticated unsafe request must pass the same-origin check; a browser without a
 * session is sent to /login, others get 401) and answers `{ token, via, cookie }`.
 */
export async function startFront(fx: SsoFixture, options: FrontOptions = {}): Promise<Front> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const publicUrl = options.publicUrl ?? url;
  const config = gatewayConfig(fx, { publicUrl, listen: { port }, sso: options.sso, ...options.gateway });
  const sessions = createBrowserSessions({
    config,
    secrets: { clientSecret: fx.secret, cookieKey: options.cookieKey ?? newCookieKey() },
    logger: options.logger ?? silentLogger(),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.redis ? { redis: options.redis } : {}),
  });
  const server: Server = createServer((req, res) => {
    void (async () => {
      const target = new URL(req.url ?? '/', 'http://x');
      if (await sessions.handle(req, res, target.pathname, target.search.slice(1))) return;
      if (!target.pathname.startsWith('/api/')) {
        res.writeHead(404).end();
        return;
      }
      const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
      const token = bearer ?? (await sessions.accessToken(req, res));
      if (!token) {
        if ((req.headers.accept ?? '').includes('text/html')) return sessions.redirectToLogin(res, `${target.pathname}${target.search}`);
        res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
        return;
      }
      const refused = bearer ? undefined : sessions.crossOrigin(req);
      if (refused) {
        res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: refused }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, via: bearer ? 'bearer' : 'cookie', cookie: sessions.stripCookie(req.headers.cookie) ?? null }));
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await listenOn(server, port);
  return {
    url,
    publicUrl,
    sessions,
    async close() {
      await sessions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Maps a URL on the public origin to where the test reaches the front. */
export function reach(front: Origin, location: string): string {
  const url = new URL(location, front.publicUrl);
  return url.origin === new URL(front.publicUrl).origin ? `${front.url}${url.pathname}${url.search}` : url.href;
}

/**
 * GET /login through the real sign-in form (when the Security Service asks for it) up to the
 * callback URL on the gateway's public origin (not fetched yet).
 */
export async function toCallback(browser: Browser, front: Origin, issuer: string, loginPath = '/login', username = 'alice'): Promise<URL> {
  const start = await browser.fetch(reach(front, loginPath));
  assert.equal(start.status, 303, `GET ${loginPath} answered ${start.status}`);
  let step = await browser.follow(start.headers.get('location')!, issuer);
  if (step.res.status === 200) {
    const html = await step.res.text();
    assert.match(html, /name="password"/, 'the sign-in form');
    const res = await post(browser, new URL(formAction(html, '/login'), issuer).href, { csrf: formField(html, 'csrf'), username, password: PASSWORD });
    assert.equal(res.status, 303, `sign-in answered ${res.status}`);
    step = await browser.follow(new URL(res.headers.get('location')!, issuer).href, issuer);
  }
  assert.ok(step.res.status >= 300 && step.res.status < 400, `expected the redirect back to the gateway, got ${step.res.status}`);
  return new URL(step.url);
}

/** The whole sign-in: returns the callback's response (303 to the return path, session cookie set). */
export async function signInThroughGateway(browser: Browser, front: Origin, issuer: string, loginPath = '/login', username?: string): Promise<Response> {
  const callback = await toCallback(browser, front, issuer, loginPath, username);
  return browser.fetch(reach(front, callback.href));
}

/** The Set-Cookie lines of a response for `name` (and its chunks). */
export function setCookies(res: Response, name: string): string[] {
  return res.headers.getSetCookie().filter((line) => line.startsWith(`${name}=`) || new RegExp(`^${name.replace(/[.]/g, '\\.')}\\.\\d+=`).test(line));
}

/** A plain HTTP forwarder to `target` that records the paths it forwarded (an "internal address" of the Security Service). */
export async function startForwarder(target: string): Promise<{ url: string; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(new URL(req.url ?? '/', 'http://x').pathname);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection', 'content-length', 'transfer-encoding'].includes(name))) as Record<string, string>;
      fetch(`${target}${req.url}`, { method: req.method!, headers, redirect: 'manual', ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) })
        .then(async (upstream) => {
          const body = Buffer.from(await upstream.arrayBuffer());
          const out: Record<string, string | string[]> = {};
          upstream.headers.forEach((value, name) => { if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'set-cookie'].includes(name)) out[name] = value; });
          res.writeHead(upstream.status, out).end(body);
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  const port = await freePort();
  await listenOn(server, port);
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())); },
  };
}

/** Verifies an access token the way a resource server does: JWKS signature, issuer, audience, RFC 9068 typ. */
export async function verifyAccessToken(token: string, fx: SsoFixture): Promise<Record<string, unknown>> {
  const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(token, jwks, { issuer: fx.issuer, audience: fx.audience, typ: 'at+jwt' });
  return payload;
}

/** Reads a session cookie's claims with the gateway's key (tests only: to reach the refresh token). */
export async function openSessionCookie(value: string, key: Uint8Array): Promise<Record<string, unknown>> {
  return (await jwtDecrypt(value, key)).payload;
}
