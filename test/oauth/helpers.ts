/**
 * Test helpers for the OAuth flows: a service with users and clients, a tiny cookie-keeping
 * browser (fetch, no redirects followed automatically), and the login through the real HTML form.
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { startService, type StartOptions, type TestDialect, type TestService } from '../helpers/service.ts';
import type { Client, CreateClientInput } from '../../src/oauth/index.ts';
import type { AuditEvent, AuditRecord } from '../../src/events/audit.ts';
import type { PublishedEvent, TokensRevoked } from '../../src/events/types.ts';

export const PASSWORD = 'Quartz-Lantern-Meadow-8142';
export const CALLBACK = 'http://127.0.0.1:9/callback';

export interface OAuthFixture {
  svc: TestService;
  issuer: string;
  api: string;
  users: { alice: string; bob: string };
  firstParty: { client: Client; secret: string };
  thirdParty: { client: Client; secret: string };
  spa: { client: Client };
  service: { client: Client; secret: string };
  close(): Promise<void>;
}

export async function startOAuthService(dialect: TestDialect, options: StartOptions = {}): Promise<OAuthFixture> {
  const svc = await startService({ dialect, ...options });
  const ctx = svc.service.context;
  const issuer = svc.config.issuer;
  const api = svc.config.resources[0]!.audience;
  const alice = await ctx.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
  const bob = await ctx.users.create({ username: 'bob', email: 'bob@example.com', password: PASSWORD, roles: ['staff', 'admin'] }, 'test');
  const make = async (input: CreateClientInput) => ctx.oauth.clients.create(input, 'test');
  const fp = await make({ clientId: 'shop', name: 'Shop', firstParty: true, redirectUris: [CALLBACK], postLogoutRedirectUris: ['http://127.0.0.1:9/bye'], grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile email roles offline_access books:read orders:write admin' });
  const tp = await make({ clientId: 'partner', name: 'Partner App', firstParty: false, redirectUris: [CALLBACK], grantTypes: ['authorization_code', 'refresh_token'] });
  const spa = await make({ clientId: 'spa', name: 'SPA', firstParty: true, public: true, redirectUris: [CALLBACK], grantTypes: ['authorization_code', 'refresh_token'] });
  const service = await make({ clientId: 'orders-svc', name: 'Orders service', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'books:read events:read tokens:introspect', roles: ['staff'] });
  return {
    svc,
    issuer,
    api,
    users: { alice: alice.id, bob: bob.id },
    firstParty: { client: fp.client, secret: fp.secret! },
    thirdParty: { client: tp.client, secret: tp.secret! },
    spa: { client: spa.client },
    service: { client: service.client, secret: service.secret! },
    close: () => svc.close(),
  };
}

/** Audit assertions: `head()` before a request, then `last(event, head)` is the row that request wrote. */
export function auditProbe(fx: OAuthFixture) {
  const audit = () => fx.svc.service.context.audit;
  return {
    head: async () => (await audit().list({ latest: true, limit: 1 }))[0]?.seq ?? 0,
    async last(event: AuditEvent, since: number): Promise<AuditRecord> {
      const rows = await audit().list({ event, latest: true, limit: 1 });
      assert.ok(rows[0] && rows[0].seq > since, `no new ${event} audit row`);
      return rows[0];
    },
  };
}

/** What the flow tests share: the service, the first-party `shop` as an RP, and every event the service publishes, in order. */
export interface ShopFixture { fx: OAuthFixture; shop: oidc.Configuration; published: PublishedEvent[] }

export async function startShopFixture(dialect: TestDialect, options: StartOptions = {}): Promise<ShopFixture> {
  const fx = await startOAuthService(dialect, options);
  const shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
  const published: PublishedEvent[] = [];
  fx.svc.service.context.events.subscribe((event) => published.push(event));
  return { fx, shop, published };
}

/** The tokens.revoked events among `published` from index `from` on (take `from` as published.length before acting). */
export function revokedSince(published: PublishedEvent[], from: number): TokensRevoked[] {
  return published.slice(from).map((e) => e.event).filter((e): e is TokensRevoked => e.type === 'tokens.revoked');
}

/** openid-client configuration for one of our clients (discovery over plain http). */
export async function rp(issuer: string, clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, undefined, secret === undefined ? oidc.None() : oidc.ClientSecretBasic(secret), { execute: [oidc.allowInsecureRequests] });
}

/** A cookie jar over fetch. Redirects are returned, not followed. */
export class Browser {
  cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects while they stay on `origin`; returns the first response elsewhere or not a redirect. */
  async follow(url: string, origin: string, init: RequestInit = {}): Promise<{ url: string; res: Response }> {
    let current = url;
    let res = await this.fetch(current, init);
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (new URL(next).origin !== origin) return { url: next, res };
      current = next;
      res = await this.fetch(current);
    }
    return { url: current, res };
  }
}

export function formField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  assert.ok(match, `form field ${name} not found`);
  return match[1]!.replace(/&amp;/g, '&');
}

export function formAction(html: string, contains: string): string {
  const match = new RegExp(`action="([^"]*${contains}[^"]*)"`).exec(html);
  assert.ok(match, `form action ${contains} not found`);
  return match[1]!;
}

export function post(browser: Browser, url: string, form: Record<string, string>): Promise<Response> {
  return browser.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
}

export interface StartedAuthorization {
  url: URL;
  verifier: string;
  state: string;
}

export async function authorizationUrl(config: oidc.Configuration, params: Record<string, string> = {}): Promise<StartedAuthorization> {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile books:read',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...params,
  });
  return { url, verifier, state };
}

/**
 * Drives the browser through login (and consent when `consent` is true) and returns the
 * callback URL the server redirected to.
 */
export async function signIn(browser: Browser, issuer: string, url: URL, options: { username?: string; password?: string; consent?: boolean } = {}): Promise<URL> {
  let step = await browser.follow(url.href, issuer);
  if (step.res.status === 200 && (await peek(step.res)).includes('name="password"')) {
    const html = await step.res.text();
    const res = await post(browser, new URL(formAction(html, '/login'), issuer).href, { csrf: formField(html, 'csrf'), username: options.username ?? 'alice', password: options.password ?? PASSWORD });
    assert.equal(res.status, 303, `login failed with ${res.status}`);
    step = await browser.follow(new URL(res.headers.get('location')!, issuer).href, issuer);
  }
  if (step.res.status === 200 && options.consent) {
    const html = await step.res.text();
    const res = await post(browser, new URL(formAction(html, '/consent'), issuer).href, { csrf: formField(html, 'csrf') });
    assert.equal(res.status, 303);
    step = await browser.follow(new URL(res.headers.get('location')!, issuer).href, issuer);
  }
  assert.ok(step.res.status >= 300 && step.res.status < 400, `expected a redirect to the client, got ${step.res.status} at ${step.url}`);
  return new URL(step.url);
}

async function peek(res: Response): Promise<string> {
  return res.clone().text();
}

/** Full code flow for a confidential client: returns the token response. */
export async function codeFlow(config: oidc.Configuration, issuer: string, options: { params?: Record<string, string>; username?: string; password?: string; consent?: boolean; browser?: Browser } = {}) {
  const browser = options.browser ?? new Browser();
  const started = await authorizationUrl(config, options.params);
  const callback = await signIn(browser, issuer, started.url, options);
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
  return { tokens, browser, callback };
}

export function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function tokenRequest(issuer: string, form: Record<string, string>, auth?: string): Promise<Response> {
  return fetch(`${issuer}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(auth ? { authorization: auth } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}
