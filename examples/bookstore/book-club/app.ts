/**
 * Book Club — a third-party web app of the bookstore demo, as someone outside the bookstore would
 * write it: its own small node:http server on its own origin, an OpenID Connect relying party
 * (openid-client: authorization code + PKCE + state + nonce) registered with the bookstore as a
 * confidential, NOT first-party client with the scopes `openid profile orders:read`. It imports
 * nothing of Gatehouse: everything it knows it learns over HTTP.
 *
 *   GET  /            connected: who you are and your orders, read through the gateway; else "connect"
 *   POST /connect     off to the bookstore's sign-in and consent page
 *   GET  /callback    the code comes back: redeemed for tokens (the client secret stays here)
 *   POST /try-order   shows that the app can do nothing else: POST /api/orders is refused (403)
 *   POST /logout      forgets the tokens (disconnecting the app is the bookstore account's job)
 *
 * Sessions live in memory, keyed by a random HttpOnly SameSite=Lax cookie; the app's form posts
 * are refused when they come from another origin.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { STYLESHEET, connectedPage, welcomePage, type OrderSummary, type OrdersView } from './pages.ts';

export interface BookClubOptions {
  /** The bookstore's issuer (its gateway's origin). */
  issuer: string;
  /** Where the bookstore's API is: the gateway. */
  gatewayUrl: string;
  /** The API audience its tokens are for (RFC 8707 resource). */
  audience: string;
  clientId: string;
  clientSecret: string;
  host?: string;
  port: number;
  /** Told about requests that failed unexpectedly (the page says only "could not be reached"). */
  onError?: (error: unknown, path: string) => void;
}

export interface BookClub {
  url: string;
  close(): Promise<void>;
}

export const BOOK_CLUB_SCOPE = 'openid profile orders:read';
const SESSION_COOKIE = 'book_club_session';
const FLOW_COOKIE = 'book_club_flow';
/** At most this many sessions and sign-ins in flight are kept (a demo: the oldest are dropped). */
const MAX_ENTRIES = 1000;
const FLOW_TTL_MS = 10 * 60 * 1000;

interface Session { accessToken: string; expiresAt: number; name: string; scope: string }
interface Flow { verifier: string; state: string; nonce: string; createdAt: number }

function bounded<T>(): Map<string, T> & { put(key: string, value: T): void } {
  const map = new Map<string, T>() as Map<string, T> & { put(key: string, value: T): void };
  map.put = (key, value) => {
    if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
    map.set(key, value);
  };
  return map;
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

const setCookie = (name: string, value: string, maxAge: number) => `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}`;

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'self'; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  // same-origin, not no-referrer: under no-referrer a browser sends `Origin: null` on our own form posts.
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
};

export async function startBookClub(options: BookClubOptions): Promise<BookClub> {
  const host = options.host ?? '127.0.0.1';
  const sessions = bounded<Session>();
  const flows = bounded<Flow>();
  let origin = '';
  let configuration: Promise<oidc.Configuration> | undefined;

  // Discovered on first use (the bookstore may start after us) and again after a failure.
  const rp = () => (configuration ??= oidc
    .discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretBasic(options.clientSecret), { execute: [oidc.allowInsecureRequests] })
    .catch((error: unknown) => { configuration = undefined; throw error; }));

  const api = (session: Session, path: string, method = 'GET') =>
    fetch(`${options.gatewayUrl}${path}`, { method, headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{"items":[]}' } : {}), signal: AbortSignal.timeout(10_000) });

  function html(res: ServerResponse, status: number, body: string, extra: Record<string, string | string[]> = {}): void {
    res.writeHead(status, { ...HEADERS, ...extra, 'content-length': Buffer.byteLength(body) }).end(body);
  }
  function redirect(res: ServerResponse, location: string, extra: Record<string, string | string[]> = {}): void {
    res.writeHead(303, { location, 'cache-control': 'no-store', ...extra }).end();
  }

  function sessionOf(req: IncomingMessage): Session | undefined {
    const id = cookie(req, SESSION_COOKIE);
    const session = id ? sessions.get(id) : undefined;
    return session && session.expiresAt > Date.now() ? session : undefined;
  }

  async function readOrders(session: Session): Promise<OrdersView> {
    const response = await api(session, '/api/orders');
    if (response.status !== 200) {
      const problem = await response.json().catch(() => ({})) as { title?: string };
      return { kind: 'refused', status: response.status, message: problem.title ?? response.statusText };
    }
    return { kind: 'orders', orders: ((await response.json()) as { orders: OrderSummary[] }).orders };
  }

  async function home(req: IncomingMessage, res: ServerResponse, attempt?: string): Promise<void> {
    const session = sessionOf(req);
    if (!session) return html(res, 200, welcomePage());
    html(res, 200, connectedPage({ name: session.name, scope: session.scope, orders: await readOrders(session), ...(attempt ? { attempt } : {}) }));
  }

  async function connect(res: ServerResponse): Promise<void> {
    const flow: Flow = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), createdAt: Date.now() };
    const flowId = randomBytes(16).toString('base64url');
    flows.put(flowId, flow);
    const url = oidc.buildAuthorizationUrl(await rp(), {
      redirect_uri: `${origin}/callback`,
      scope: BOOK_CLUB_SCOPE,
      resource: options.audience,
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    redirect(res, url.href, { 'set-cookie': setCookie(FLOW_COOKIE, flowId, FLOW_TTL_MS / 1000) });
  }

  async function callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const flowId = cookie(req, FLOW_COOKIE);
    const flow = flowId ? flows.get(flowId) : undefined;
    if (flowId) flows.delete(flowId);
    const clearFlow = setCookie(FLOW_COOKIE, '', 0);
    if (!flow || Date.now() - flow.createdAt > FLOW_TTL_MS) return html(res, 400, welcomePage('That sign-in expired or was not started here. Connect again.'), { 'set-cookie': clearFlow });
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(await rp(), new URL(req.url ?? '/', origin), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce, idTokenExpected: true }, { resource: options.audience });
    } catch (error) {
      const code = (error as { error?: unknown }).error;
      const message = code === 'access_denied' ? 'You did not allow Book Club to read your orders. Nothing was shared.' : 'The bookstore did not connect Book Club. Try again.';
      return html(res, code === 'access_denied' ? 200 : 400, welcomePage(message), { 'set-cookie': clearFlow });
    }
    const session: Session = { accessToken: tokens.access_token, expiresAt: Date.now() + (tokens.expiresIn() ?? 300) * 1000, name: tokens.claims()?.sub ?? 'you', scope: tokens.scope ?? '' };
    // Who the user is, by name: the bookstore's /api/me (the ID token carries only `sub`).
    const me = await api(session, '/api/me').then((r) => (r.ok ? r.json() as Promise<{ username?: string }> : undefined)).catch(() => undefined);
    if (typeof me?.username === 'string') session.name = me.username;
    const sessionId = randomBytes(24).toString('base64url');
    sessions.put(sessionId, session);
    redirect(res, '/', { 'set-cookie': [clearFlow, setCookie(SESSION_COOKIE, sessionId, Math.ceil((session.expiresAt - Date.now()) / 1000))] });
  }

  async function tryOrder(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const session = sessionOf(req);
    if (!session) return redirect(res, '/');
    const response = await api(session, '/api/orders', 'POST');
    await response.arrayBuffer();
    const attempt = response.status === 403
      ? 'The bookstore refused to let Book Club place an order (403): you only allowed it to read your orders.'
      : `The bookstore answered ${response.status} to an order from Book Club.`;
    await home(req, res, attempt);
  }

  function logout(req: IncomingMessage, res: ServerResponse): void {
    const id = cookie(req, SESSION_COOKIE);
    if (id) sessions.delete(id);
    redirect(res, '/', { 'set-cookie': setCookie(SESSION_COOKIE, '', 0) });
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    // A form post must come from our own pages (SameSite=Lax already keeps the cookie off cross-site posts).
    const sentFrom = req.headers.origin;
    if (req.method === 'POST' && sentFrom !== undefined && sentFrom !== origin) return html(res, 403, welcomePage('That form did not come from Book Club.'));
    const handle = async () => {
      switch (route) {
        case 'GET /': return home(req, res);
        case 'GET /style.css': return void res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }).end(STYLESHEET);
        case 'POST /connect': return connect(res);
        case 'GET /callback': return callback(req, res);
        case 'POST /try-order': return tryOrder(req, res);
        case 'POST /logout': return logout(req, res);
        default: return html(res, 404, welcomePage('There is no such page.'));
      }
    };
    handle().catch((error: unknown) => {
      options.onError?.(error, path ?? '/');
      if (!res.headersSent) html(res, 502, welcomePage('The bookstore could not be reached. Try again shortly.'));
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
