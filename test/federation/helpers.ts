/**
 * Two real Security Services: the "IdP" (an independently configured Gatehouse acting as the
 * external identity provider, on http://localhost:<port>) and "ours" (http://127.0.0.1:<port>,
 * with `identityProviders:` pointing at the IdP, as `oidc` or as `oauth2` + userinfo). Different
 * host names keep their cookies apart, as in a real browser (cookies ignore ports).
 */
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import type { Logger } from '../../src/shared/logger.ts';
import { startService, freePort, type TestDialect, type TestService } from '../helpers/service.ts';
import { startTamperingProxy, type ProxyMode, type TamperingProxy } from './tampering-proxy.ts';
import { startOAuthService, rp, authorizationUrl, Browser, formAction, formField, PASSWORD, type OAuthFixture, type StartedAuthorization } from '../oauth/helpers.ts';

export const PROVIDER_ID = 'corp';
export const PROVIDER_NAME = 'Corp IdP';

export interface FederationFixture {
  idp: TestService;
  idpIssuer: string;
  /** Every request to the IdP goes through it (the IdP's issuer is its origin). */
  proxy: TamperingProxy;
  ours: OAuthFixture;
  /** Our client secret at the IdP. */
  clientSecret: string;
  shop: oidc.Configuration;
  /** A new user at the IdP (unique name per call); returns its id there. */
  idpUser(username: string, options?: { email?: string; roles?: string[] }): Promise<string>;
  close(): Promise<void>;
}

export interface FederationOptions {
  type: 'oidc' | 'oauth2';
  /** Overrides of the provider entry (e.g. an issuer that points at a tampering proxy). */
  provider?: Record<string, unknown>;
  /** More providers, after the first. */
  extraProviders?: Array<Record<string, unknown>>;
  /** The proxy's mode while our service starts (default normal). */
  proxyModeAtStart?: ProxyMode;
  /** Our service's logger. */
  logger?: Logger;
}

export function providerEntry(type: 'oidc' | 'oauth2', idpIssuer: string): Record<string, unknown> {
  const common = { id: PROVIDER_ID, name: PROVIDER_NAME, clientId: 'our-gatehouse', timeout: 2, roles: [{ claim: 'roles', contains: 'staff', role: 'staff' }] };
  if (type === 'oidc') return { ...common, type, issuer: idpIssuer, scopes: ['openid', 'profile', 'email', 'roles'] };
  return {
    ...common,
    type,
    authorizationEndpoint: `${idpIssuer}/oauth2/authorize`,
    tokenEndpoint: `${idpIssuer}/oauth2/token`,
    userinfoEndpoint: `${idpIssuer}/oauth2/userinfo`,
    scopes: ['openid', 'profile', 'email', 'roles'],
    claims: { subject: 'sub', username: 'preferred_username', email: 'email' },
  };
}

export async function startFederation(dialect: TestDialect, options: FederationOptions): Promise<FederationFixture> {
  // What each step started, closed last first by close() and when a later step fails: an IdP
  // left listening would keep the test file's process alive after the failure.
  const started: Array<() => Promise<void>> = [];
  const closeStarted = async () => {
    for (const close of [...started].reverse()) await close();
  };
  try {
    const idpPort = await freePort();
    const proxyPort = await freePort();
    const idpIssuer = `http://localhost:${proxyPort}`;
    const idp = await startService({ dialect, config: { issuer: idpIssuer, listen: { host: '127.0.0.1', port: idpPort, tlsPort: await freePort() }, resources: [{ audience: `${idpIssuer}/api`, scopes: [] }] } });
    started.push(() => idp.close());
    const proxy = await startTamperingProxy(proxyPort, `http://127.0.0.1:${idpPort}`);
    started.push(() => proxy.close());
    proxy.mode = options.proxyModeAtStart ?? 'normal';
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const registered = await idp.service.context.oauth.clients.create({
      clientId: 'our-gatehouse',
      name: 'Our Gatehouse',
      firstParty: true,
      redirectUris: [`${issuer}/federation/${PROVIDER_ID}/callback`],
      grantTypes: ['authorization_code'],
      scope: 'openid profile email roles',
    }, 'test');
    const providers = [{ ...providerEntry(options.type, idpIssuer), ...options.provider }, ...(options.extraProviders ?? [])];
    const ours = await startOAuthService(dialect, {
      config: { issuer, listen: { host: '127.0.0.1', port, tlsPort: await freePort() }, identityProviders: providers },
      env: { GATEHOUSE_IDP_CORP_CLIENT_SECRET: registered.secret! },
      ...(options.logger ? { logger: options.logger } : {}),
    });
    started.push(() => ours.close());
    const shop = await rp(ours.issuer, 'shop', ours.firstParty.secret);
    return {
      idp,
      idpIssuer,
      proxy,
      ours,
      clientSecret: registered.secret!,
      shop,
      async idpUser(username, opts = {}) {
        const user = await idp.service.context.users.create({ username, email: opts.email ?? `${username}@idp.example`, password: PASSWORD, roles: opts.roles ?? [] }, 'test');
        return user.id;
      },
      close: closeStarted,
    };
  } catch (error) {
    await closeStarted().catch(() => undefined);
    throw error;
  }
}

/** A browser with one cookie jar per host name (cookies are not separated by port). */
export class HostBrowser {
  private jars = new Map<string, Browser>();

  jar(url: string): Browser {
    const host = new URL(url).hostname;
    let jar = this.jars.get(host);
    if (!jar) this.jars.set(host, (jar = new Browser()));
    return jar;
  }

  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    return this.jar(url).fetch(url, init);
  }

  post(url: string, form: Record<string, string>): Promise<Response> {
    return this.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  /** Follows redirects until one leaves for `stopAt`'s origin (returned, not fetched) or a non-redirect answer. */
  async follow(url: string, stopAt?: (url: URL) => boolean): Promise<{ url: string; res: Response }> {
    let current = url;
    let res = await this.fetch(current);
    for (let hops = 0; hops < 15 && res.status >= 300 && res.status < 400; hops++) {
      const next = new URL(res.headers.get('location')!, current).href;
      if (stopAt?.(new URL(next))) return { url: next, res };
      current = next;
      res = await this.fetch(current);
    }
    return { url: current, res };
  }
}

/** Our login page for a fresh authorization request of `shop`. */
export async function ourLoginPage(fx: FederationFixture, browser: HostBrowser): Promise<{ started: StartedAuthorization; html: string; url: string }> {
  const started = await authorizationUrl(fx.shop, { scope: 'openid profile' });
  const { url, res } = await browser.follow(started.url.href);
  assert.equal(res.status, 200, `expected our login page, got ${res.status} at ${url}`);
  return { started, html: await res.text(), url };
}

export function providerLink(html: string, name = PROVIDER_NAME): string {
  const match = new RegExp(`href="([^"]+)">Sign in with ${name}<`).exec(html);
  assert.ok(match, `no "Sign in with ${name}" link`);
  return match[1]!.replace(/&amp;/g, '&');
}

/** Clicks the provider's link: returns the IdP authorization URL we were sent to. */
export async function clickProvider(fx: FederationFixture, browser: HostBrowser, html: string): Promise<URL> {
  const res = await browser.fetch(new URL(providerLink(html), fx.ours.issuer).href);
  assert.equal(res.status, 303, `the provider link answered ${res.status}`);
  const location = new URL(res.headers.get('location')!);
  assert.equal(location.origin, fx.idpIssuer);
  return location;
}

/** Signs in at the IdP's real login form; returns the redirect back to our callback (not yet followed). */
export async function signInAtIdp(fx: FederationFixture, browser: HostBrowser, authorize: URL, username: string): Promise<URL> {
  const leavesIdp = (url: URL) => url.origin !== fx.idpIssuer;
  let step = await browser.follow(authorize.href, leavesIdp);
  if (step.res.status === 200) {
    const html = await step.res.text();
    assert.ok(html.includes('name="password"'), 'expected the IdP login form');
    const res = await browser.post(new URL(formAction(html, '/login'), fx.idpIssuer).href, { csrf: formField(html, 'csrf'), username, password: PASSWORD });
    assert.equal(res.status, 303, `IdP login answered ${res.status}`);
    step = await browser.follow(new URL(res.headers.get('location')!, fx.idpIssuer).href, leavesIdp);
  }
  const back = new URL(step.url);
  assert.equal(back.origin, fx.ours.issuer, `expected a redirect to our callback, got ${step.url}`);
  return back;
}

/** Follows our callback (and what follows on our side); stops at the shop's redirect URI. */
export async function followOurs(fx: FederationFixture, browser: HostBrowser, url: URL | string): Promise<{ url: string; res: Response }> {
  return browser.follow(String(url), (next) => next.origin !== fx.ours.issuer);
}

/** Finishes a shop authorization from the redirect to its callback: the ID token's claims. */
export async function shopTokens(fx: FederationFixture, started: StartedAuthorization, callback: string) {
  const tokens = await oidc.authorizationCodeGrant(fx.shop, new URL(callback), { pkceCodeVerifier: started.verifier, expectedState: started.state });
  return tokens.claims()!;
}

export function form(html: string, contains: string): { action: string; csrf: string } {
  return { action: formAction(html, contains), csrf: formField(html, 'csrf') };
}

/** Our login page → the provider → the IdP's login as `username` → back at ours: where we land (choice page, or the shop's callback). */
export async function viaProvider(fx: FederationFixture, browser: HostBrowser, username: string) {
  const { started, html } = await ourLoginPage(fx, browser);
  const authorize = await clickProvider(fx, browser, html);
  const callback = await signInAtIdp(fx, browser, authorize, username);
  const landed = await followOurs(fx, browser, callback);
  return { started, landed };
}

/** A first sign-in as `username` at the IdP that creates the account here; returns its id. */
export async function createViaProvider(fx: FederationFixture, username: string): Promise<string> {
  const browser = new HostBrowser();
  const { started, landed } = await viaProvider(fx, browser, username);
  const create = form(await landed.res.text(), '/federation/create');
  const res = await browser.post(new URL(create.action, fx.ours.issuer).href, { csrf: create.csrf });
  assert.equal(res.status, 303);
  const done = await followOurs(fx, browser, new URL(res.headers.get('location')!, fx.ours.issuer));
  return String((await shopTokens(fx, started, done.url)).sub);
}
