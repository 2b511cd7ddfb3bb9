/**
 * What the account page is built from. Everything arrives as plain objects from the composition
 * root (src/service.ts): the page imports no other component's internals. The three optional
 * sections (API tokens, connected apps, linked identities) follow the shared contract of issue 8
 * (HELPERS-BRIEF contract 3); a section whose object is absent says "not configured".
 * Times are epoch seconds; `actor` is `user:<id>`.
 */
import type { AuditLog } from '../events/audit.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { ApiTokenService, ApiTokenSummary } from '../tokens/index.ts';
import type { ConnectedApp, ConnectedApps as OAuthConnectedApps, Sessions, SessionSummary } from '../oauth/index.ts';
import type { LinkedIdentities, LinkedIdentity, User } from '../identity/index.ts';

/** The sections' data, as the components define it (contract 3); only the calls the page makes are required. */
export type ApiTokens = Pick<ApiTokenService, 'create' | 'list' | 'revoke'>;
export type ConnectedApps = Pick<OAuthConnectedApps, 'list' | 'disconnect'>;
export type AccountSession = SessionSummary;
export type AccountSessions = Sessions;
export type { ApiTokenSummary, ConnectedApp, LinkedIdentity, LinkedIdentities };

/** The signed-in user, as the page shows them. */
export type AccountUser = Pick<User, 'id' | 'username' | 'email' | 'status' | 'roles'>;

export type PasswordCheck =
  | { ok: true }
  | { ok: false; reason: 'invalid_credentials' | 'throttled' | 'locked' | 'busy' | 'disabled'; retryAfter?: number };

export interface AccountDeps {
  /** The Security Service's public origin comes from it: forms must be posted from there. */
  issuer: string;
  /** Audience of the session tokens the page accepts (the gateway's API audience). */
  audience: string;
  /** Where API calls go in the curl example (the gateway's API base, e.g. https://shop.example/api). */
  apiExampleUrl: string;
  /** Every check of our access-token verifier but the audience (tokens component). */
  verifier: { inspect(token: string): Promise<{ claims: { sub: string; sid?: string; jti: string; client_id: string; aud: string | string[]; exp: number }; payload: Record<string, unknown> }> };
  isTokenRevoked(jti: string): Promise<boolean>;
  /** True for a registered first-party client (our own apps: the gateway's browser sign-in). */
  isFirstParty(clientId: string): Promise<boolean>;
  users: {
    findById(id: string): Promise<AccountUser | undefined>;
    /** Sets the password (policy checked; throws weak_password / validation_failed) and revokes every token and session of the user. */
    setPassword(id: string, password: string, actor: string): Promise<unknown>;
    /** False for an account made through an external provider that never set a password. */
    hasPassword(id: string): Promise<boolean>;
  };
  /** Checks a password exactly like the sign-in form does, with its throttling and audit rows. */
  checkPassword(input: { username: string; password: string; ip: string }): Promise<PasswordCheck>;
  /** Permission scopes the user may give a personal API token. */
  scopeChoices(user: AccountUser): string[];
  sessions: AccountSessions;
  apiTokens?: ApiTokens | undefined;
  /** Longest lifetime a personal API token may have (seconds): longer expiry choices are not offered. */
  apiTokenMaxTtl?: number | undefined;
  connectedApps?: ConnectedApps | undefined;
  linkedIdentities?: LinkedIdentities | undefined;
  audit: AuditLog;
  /** CSRF tokens are MACs under the first key (any key verifies). */
  cookieKeys: string[];
  /** Seals the flash cookie (it may carry a new API token, shown once). */
  masterKey: Buffer;
  clock: Clock;
  logger: Logger;
}
