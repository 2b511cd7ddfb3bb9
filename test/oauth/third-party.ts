/**
 * A third-party app (`book-club`, not first-party: it gets the consent page) on a service whose
 * API describes its scopes in words, and the steps a browser takes to its consent page.
 */
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import type { TestDialect } from '../helpers/service.ts';
import { startOAuthService, rp, Browser, formAction, formField, post, PASSWORD, type OAuthFixture } from './helpers.ts';

export const APP_SCOPE = 'openid profile offline_access orders:read';

export interface ThirdPartyFixture {
  fx: OAuthFixture;
  app: oidc.Configuration;
  appSecret: string;
  close(): Promise<void>;
}

export async function startThirdPartyFixture(dialect: TestDialect): Promise<ThirdPartyFixture> {
  const fx = await startOAuthService(dialect, {
    config: (issuer) => ({
      resources: [{
        audience: `${issuer}/api`,
        scopes: ['books:read', 'orders:write', 'orders:read', 'orders:create'],
        descriptions: { 'orders:read': 'Read your orders', 'orders:create': 'Place orders in your name' },
      }],
    }),
  });
  const created = await fx.svc.service.context.oauth.clients.create({
    clientId: 'book-club', name: 'Book Club', firstParty: false, redirectUris: ['http://127.0.0.1:9/callback'],
    grantTypes: ['authorization_code', 'refresh_token'], scope: APP_SCOPE,
  }, 'test');
  const app = await rp(fx.issuer, 'book-club', created.secret!);
  return { fx, app, appSecret: created.secret!, close: () => fx.close() };
}

/**
 * Opens `url` in `browser`, signs alice in when the form asks, and returns the page the
 * Security Service ends on: the consent page (status 200) or the redirect to the app.
 */
export async function openAuthorization(browser: Browser, issuer: string, url: URL, username = 'alice'): Promise<{ url: string; res: Response; html: string }> {
  let step = await browser.follow(url.href, issuer);
  let html = step.res.status === 200 ? await step.res.text() : '';
  if (html.includes('name="password"')) {
    const res = await post(browser, new URL(formAction(html, '/login'), issuer).href, { csrf: formField(html, 'csrf'), username, password: PASSWORD });
    assert.equal(res.status, 303, `login failed with ${res.status}`);
    step = await browser.follow(new URL(res.headers.get('location')!, issuer).href, issuer);
    html = step.res.status === 200 ? await step.res.text() : '';
  }
  return { ...step, html };
}

/** Posts the consent page's Allow (or Deny) form and follows to the app's callback. */
export async function answerConsent(browser: Browser, issuer: string, html: string, answer: 'allow' | 'deny'): Promise<URL> {
  const res = await post(browser, new URL(formAction(html, answer === 'allow' ? '/consent' : '/abort'), issuer).href, { csrf: formField(html, 'csrf') });
  assert.equal(res.status, 303);
  const done = await browser.follow(new URL(res.headers.get('location')!, issuer).href, issuer);
  return new URL(done.url);
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** The user's Grant rows for a client (what consent stored). */
export async function grantsOf(fx: OAuthFixture, userId: string, clientId: string): Promise<number> {
  const rows = await fx.svc.service.context.store.db.selectFrom('oidc_models').select('payload').where('model', '=', 'Grant').where('account_id', '=', userId).execute();
  return rows.filter((row) => (JSON.parse(row.payload) as { clientId?: string }).clientId === clientId).length;
}
