/**
 * The RFC 6750 §3 `WWW-Authenticate: Bearer` challenge, shared by every bearer-protected listener
 * (the Security Service's APIs, the gateway): no error attribute when no credentials were sent.
 */
import { GatehouseError } from './errors.ts';

export const BEARER_REALM = 'gatehouse';

export type BearerErrorCode = 'unauthorized' | 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export function bearerChallenge(code: BearerErrorCode, scope?: string): string {
  const parts = [`Bearer realm="${BEARER_REALM}"`];
  if (code !== 'unauthorized') parts.push(`error="${code}"`);
  if (code === 'insufficient_scope' && scope) parts.push(`scope="${scope}"`);
  return parts.join(', ');
}

/** A coded error that carries its `WWW-Authenticate` challenge. */
export function bearerError(code: BearerErrorCode, description?: string, detail?: string, scope?: string): GatehouseError {
  return new GatehouseError(code, description, {
    headers: { 'www-authenticate': bearerChallenge(code, scope) },
    ...(detail === undefined ? {} : { detail }),
    ...(scope === undefined ? {} : { extensions: { scope } }),
  });
}
