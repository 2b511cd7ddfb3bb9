/**
 * Cross-site request forgery defence of the account page's forms, two independent checks:
 *  - a per-session token in a hidden field: an HMAC of the session id (`sid`) under the cookie key,
 *    compared in constant time (stateless: nothing stored, and it changes with every sign-in);
 *  - the Origin header (or, without it, Sec-Fetch-Site) must say the post came from this origin.
 * Behind the gateway the browser's cookie becomes the bearer token; the gateway refuses a
 * cross-origin cookie post itself, and these checks stand on their own without it.
 */
import { createHmac } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { constantTimeEqual } from '../shared/random.ts';

function mac(key: string, sid: string): string {
  return createHmac('sha256', key).update(`gatehouse-account-csrf:${sid}`).digest('base64url');
}

export function csrfToken(keys: readonly string[], sid: string): string {
  return mac(keys[0]!, sid);
}

/** Any current cookie key verifies (keys rotate by prepending); every key is tried, whatever matches. */
export function csrfValid(keys: readonly string[], sid: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0) return false;
  let ok = false;
  for (const key of keys) ok = constantTimeEqual(mac(key, sid), token) || ok;
  return ok;
}

/** Undefined when the post is same-origin; otherwise why not. A browser that sends neither header passes on the token alone. */
export function crossOrigin(request: FastifyRequest, origin: string): string | undefined {
  const sent = request.headers.origin;
  if (sent !== undefined) return sent === origin ? undefined : 'origin_mismatch';
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return 'cross_site';
  return undefined;
}
