/**
 * Account-page test helpers: a signed-in session (a fresh browser through the real sign-in form,
 * the first-party `shop` client, a JWT for the API audience carrying the session's `sid`) and the
 * page driven over HTTP with that token as the bearer — what the gateway sends on a person's behalf.
 */
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { Browser, codeFlow, formField, PASSWORD, type OAuthFixture } from '../oauth/helpers.ts';

export const OFFLINE = { scope: 'openid offline_access books:read', prompt: 'consent' };

export interface SignedIn {
  browser: Browser;
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  sid: string;
  fx: OAuthFixture;
}

export function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

/** A new browser session of `username` (its own sign-in: its own sid). */
export async function signIn(fx: OAuthFixture, shop: oidc.Configuration, username = 'alice', password = PASSWORD): Promise<SignedIn> {
  const browser = new Browser();
  const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE, username, password, browser });
  const sid = claims(tokens.access_token).sid;
  assert.equal(typeof sid, 'string');
  return { browser, tokens, sid: sid as string, fx };
}

/** GET /account (or a path under it) as `who`. */
export function page(who: SignedIn, path = '/account', headers: Record<string, string> = {}): Promise<Response> {
  return who.browser.fetch(`${who.fx.issuer}${path}`, { headers: { authorization: `Bearer ${who.tokens.access_token}`, accept: 'text/html', ...headers } });
}

/** The CSRF token of `who`'s page. */
export async function csrfOf(who: SignedIn): Promise<string> {
  const res = await page(who);
  assert.equal(res.status, 200, `GET /account answered ${res.status}`);
  return formField(await res.text(), 'csrf');
}

/** POSTs a form to `path` as `who` from the page's origin (csrf from the page unless given; null: none). */
export async function submit(who: SignedIn, path: string, fields: Record<string, string | string[]>, options: { csrf?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
  const body = new URLSearchParams();
  const csrf = options.csrf === undefined ? await csrfOf(who) : options.csrf;
  if (csrf !== null) body.append('csrf', csrf);
  for (const [name, value] of Object.entries(fields)) for (const item of Array.isArray(value) ? value : [value]) body.append(name, item);
  return who.browser.fetch(`${who.fx.issuer}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${who.tokens.access_token}`, 'content-type': 'application/x-www-form-urlencoded', origin: who.fx.issuer, ...options.headers },
    body: body.toString(),
  });
}

/** POSTs, expects the 303 back to the page, and returns the page that follows (with its flash). */
export async function submitAndFollow(who: SignedIn, path: string, fields: Record<string, string | string[]>): Promise<{ status: number; html: string }> {
  const res = await submit(who, path, fields);
  assert.equal(res.status, 303, `POST ${path} answered ${res.status}`);
  assert.match(res.headers.get('location') ?? '', /^\/account(#\w+)?$/);
  const next = await page(who);
  return { status: next.status, html: await next.text() };
}

/** The text of the page's role=alert messages. */
export function alerts(html: string): string[] {
  return [...html.matchAll(/<p class="(?:alert|notice)" role="alert">([^<]*)<\/p>/g)].map((m) => m[1]!);
}
