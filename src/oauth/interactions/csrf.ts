/**
 * CSRF tokens for the login and consent forms: an HMAC of the interaction uid under the cookie
 * key. The interaction itself is found through oidc-provider's signed, path-scoped interaction
 * cookie, so a valid token proves the form was served to the browser that holds that cookie.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../../shared/random.ts';

function mac(key: string, uid: string): string {
  return createHmac('sha256', key).update(`gatehouse-interaction-csrf:${uid}`).digest('base64url');
}

export function csrfToken(keys: string[], uid: string): string {
  return mac(keys[0]!, uid);
}

/** Accepts tokens made with any current cookie key (keys rotate by prepending). */
export function csrfValid(keys: string[], uid: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0) return false;
  let ok = false;
  for (const key of keys) ok = constantTimeEqual(mac(key, uid), token) || ok;
  return ok;
}
