/**
 * The APIs access tokens are issued for (RFC 8707 resource indicators). `config.resources` are
 * the application's APIs (the first is the default audience); the Security Service itself is one
 * more resource, audience = the issuer, with `events:read` (service credentials for the event
 * stream), `tokens:introspect` (a client registered with it — a resource server, a gateway — may
 * introspect tokens issued to any client; others only their own), `tokens:exchange` (the client
 * may exchange personal API tokens for JWTs: a gateway) and `admin` (the admin API;
 * what a caller may do there is decided by its roles).
 */
import type { Config } from '../config/index.ts';
import { scopeIncludes } from '../shared/scope.ts';

export interface ResourceServer {
  audience: string;
  scopes: string[];
}

export const EVENTS_READ_SCOPE = 'events:read';
export const INTROSPECT_SCOPE = 'tokens:introspect';
/** A client registered with it (a gateway) may exchange personal API tokens for JWTs (./token-exchange.ts). */
export const EXCHANGE_SCOPE = 'tokens:exchange';
export const ISSUER_SCOPES = [EVENTS_READ_SCOPE, INTROSPECT_SCOPE, EXCHANGE_SCOPE, 'admin'] as const;
/** Scopes for service credentials only: never on a client that signs users in (authorization_code). */
export const SERVICE_ONLY_SCOPES: readonly string[] = [EVENTS_READ_SCOPE, INTROSPECT_SCOPE, EXCHANGE_SCOPE];

/** Whether a client registered with `scope` may introspect tokens issued to other clients. */
export function mayIntrospectAnyToken(scope: string | undefined): boolean {
  return scopeIncludes(scope, INTROSPECT_SCOPE);
}

/** OpenID scopes every client may ask for; `roles` adds the `roles` claim to ID tokens and userinfo. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email', 'roles'] as const;

export function resourceServers(config: Config): ResourceServer[] {
  const servers = config.resources.map((r) => ({ audience: r.audience, scopes: [...r.scopes] }));
  if (!servers.some((s) => s.audience === config.issuer)) {
    servers.push({ audience: config.issuer, scopes: [...ISSUER_SCOPES] });
  }
  return servers;
}

/** Every scope a client may be registered with. */
export function knownScopes(config: Config): string[] {
  const all = new Set<string>(OIDC_SCOPES);
  for (const server of resourceServers(config)) for (const scope of server.scopes) all.add(scope);
  return [...all];
}

/** Scopes a client gets when registered without `--scope`: OpenID and the application APIs' scopes (not the issuer's). */
export function defaultClientScope(config: Config): string {
  const all = new Set<string>(OIDC_SCOPES);
  for (const r of config.resources) if (r.audience !== config.issuer) for (const scope of r.scopes) all.add(scope);
  return [...all].join(' ');
}

/** What the OpenID and Security Service scopes let an application do, for the consent page. */
const BUILT_IN_DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'See your username',
  email: 'See your email address',
  roles: 'See your roles',
  offline_access: 'Keep access while you are not using it',
  admin: 'Use the admin API with your rights',
};

/** Scope → plain words for the consent page: the built-ins, then each resource's `descriptions` (config wins). */
export function scopeDescriptions(config: Config): Map<string, string> {
  const described = new Map(Object.entries(BUILT_IN_DESCRIPTIONS));
  for (const resource of config.resources) for (const [scope, words] of Object.entries(resource.descriptions)) described.set(scope, words);
  return described;
}
