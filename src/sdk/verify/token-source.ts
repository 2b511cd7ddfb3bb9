/**
 * `clientCredentials()`: a service's own access token for calling other services (and the event
 * stream), from the client_credentials grant via openid-client. The token is cached and renewed
 * `refreshBefore` seconds before it expires; concurrent callers share one grant (single flight),
 * so ten requests at the moment of renewal cost one token request.
 */
import * as oidc from 'openid-client';
import type { TokenSource } from './types.ts';
import { internalFetch } from './internal-fetch.ts';

export interface ClientCredentialsOptions {
  issuer: string;
  /** Internal base URL to reach the Security Service at (discovery, token endpoint). Default: the issuer. */
  securityService?: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes to ask for. */
  scope?: string;
  /** RFC 8707 resource: the audience of the token (another service's API, or the issuer for the event stream). */
  resource?: string;
  /** Renew this many seconds before expiry. Default 30. */
  refreshBefore?: number;
  fetch?: typeof fetch;
  /** Epoch ms (tests). */
  now?: () => number;
}

interface Held {
  token: string;
  /** Epoch ms at which to renew. */
  renewAt: number;
}

export function clientCredentials(options: ClientCredentialsOptions): TokenSource {
  for (const key of ['issuer', 'clientId', 'clientSecret'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw new TypeError(`clientCredentials(): ${key} is required`);
  }
  const now = options.now ?? Date.now;
  const refreshBefore = (options.refreshBefore ?? 30) * 1000;
  const doFetch = internalFetch(options.issuer, options.securityService, options.fetch ?? globalThis.fetch);
  const parameters: Record<string, string> = {};
  if (options.scope !== undefined) parameters.scope = options.scope;
  if (options.resource !== undefined) parameters.resource = options.resource;
  let configuration: oidc.Configuration | undefined;
  let held: Held | undefined;
  let inFlight: Promise<string> | undefined;
  let closed = false;

  async function configure(): Promise<oidc.Configuration> {
    if (configuration) return configuration;
    const discovered = await oidc.discovery(new URL(options.issuer), options.clientId, undefined, oidc.ClientSecretBasic(options.clientSecret), {
      [oidc.customFetch]: doFetch as oidc.CustomFetch,
      ...(new URL(options.issuer).protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
    discovered[oidc.customFetch] = doFetch as oidc.CustomFetch;
    configuration = discovered;
    return discovered;
  }

  async function grant(): Promise<string> {
    const response = await oidc.clientCredentialsGrant(await configure(), parameters);
    const issuedAt = now();
    const lifetime = (response.expires_in ?? 60) * 1000;
    // A token shorter-lived than twice refreshBefore is renewed at half its life instead.
    const renewAt = issuedAt + Math.max(lifetime - refreshBefore, lifetime / 2);
    if (!closed) held = { token: response.access_token, renewAt };
    return response.access_token;
  }

  return {
    token() {
      if (closed) return Promise.reject(new Error('the token source is closed'));
      if (held !== undefined && now() < held.renewAt) return Promise.resolve(held.token);
      inFlight ??= grant().finally(() => { inFlight = undefined; });
      return inFlight;
    },
    close() {
      closed = true;
      held = undefined;
    },
  };
}
