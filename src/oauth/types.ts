/**
 * The public shapes of the OAuth component: registered clients, the client service (CLI and admin
 * API share it) and grant revocation (identity calls it when a user is disabled or changes password).
 */
import type { Federation } from '../identity/index.ts';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.ts';
import type { Store, StoreTransaction } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus } from '../events/types.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import type { RefusalLimiter } from '../shared/refusal-limit.ts';
import type { AccessTokenVerifier, ApiTokenService } from '../tokens/index.ts';
import type { ConnectedApps } from './connected-apps.ts';

export const CLIENT_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
export type ClientGrantType = (typeof CLIENT_GRANT_TYPES)[number];

/** How a client authenticates at the token endpoint; `none` is a public client (PKCE only). */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export interface Client {
  clientId: string;
  name: string;
  /** First-party clients (our own apps) skip the consent page. */
  firstParty: boolean;
  /** Public clients (SPAs, native apps) have no secret and authenticate with PKCE alone. */
  public: boolean;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: string[];
  /** Space-separated scopes the client may request. */
  scope: string;
  /** Roles carried by client_credentials tokens of this client. */
  roles: string[];
  /** Lifetime of this client's access tokens in seconds; null: tokens.accessTokenTtl. */
  accessTokenTtl: number | null;
  createdAt: number;
  /** How the client authenticates at the token endpoint. */
  tokenEndpointAuthMethod: ClientAuthMethod;
  /** private_key_jwt: the client's public keys, inline … */
  jwks?: { keys: Record<string, unknown>[] };
  /** … or where it publishes them. */
  jwksUri?: string;
  /** After `rotate-secret`: until when (epoch seconds) the previous secret is still accepted. */
  previousSecretExpiresAt?: number;
}

export interface CreateClientInput {
  clientId?: string;
  name: string;
  firstParty: boolean;
  public?: boolean;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  grantTypes: string[];
  scope?: string;
  roles?: string[];
  /** Seconds, 1 … tokens.maxAccessTokenTtl; absent: tokens.accessTokenTtl. */
  accessTokenTtl?: number;
  /** Absent: `none` for a public client, else client_secret_basic. private_key_jwt needs `jwks` or `jwksUri`. */
  tokenEndpointAuthMethod?: ClientAuthMethod;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
}

/** What `client update` may change; only the fields given change. */
export interface UpdateClientInput {
  name?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: string[];
  scope?: string;
  roles?: string[];
  /** Between client_secret_basic and client_secret_post (a secret client), or private_key_jwt keys. */
  tokenEndpointAuthMethod?: ClientAuthMethod;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUri?: string;
}

export interface ClientService {
  /** Registers a client; a confidential client's secret is returned here once and never again. */
  create(input: CreateClientInput, actor: string): Promise<{ client: Client; secret?: string }>;
  list(): Promise<Client[]>;
  /** Throws `not_found`. */
  find(clientId: string): Promise<Client>;
  /** Removes the client and revokes everything it holds: grants, refresh tokens, outstanding access tokens. */
  remove(clientId: string, actor: string): Promise<void>;
  /** Changes what is given, validated like `create`; takes effect at the next request. Throws `not_found`. */
  update(clientId: string, input: UpdateClientInput, actor: string): Promise<Client>;
  /**
   * A new secret (returned here once); the previous one keeps working for `overlap` seconds
   * (default clients.secretRotationOverlap; 0 = refused at once). Only for clients with a secret.
   */
  rotateSecret(clientId: string, actor: string, options?: { overlap?: number }): Promise<{ client: Client; secret: string }>;
  /**
   * Dynamic client registration (RFC 7591): stores oidc-provider's validated metadata as a
   * third-party client without roles. Throws oidc-provider's `invalid_client_metadata` /
   * `invalid_redirect_uri` when our rules refuse it (nothing is stored).
   */
  registerDynamic(metadata: Record<string, unknown>): Promise<void>;
}

export interface RevokeUserOptions {
  /** Revoke inside the caller's transaction: the caller's change, the revocation, its audit entry and event commit together. */
  trx?: StoreTransaction;
  /** A logout: keep the user's other browser sessions and name this session in the event. */
  sessionId?: string;
  /** A logout: the grants of third-party apps the user connected stay (connected apps end only when disconnected). */
  keepConnectedApps?: boolean;
  actor?: string;
}

export interface GrantRevocation {
  /**
   * Revokes every grant, refresh token and stored token of the user (and, unless `sessionId` is
   * given, their sessions), marks their outstanding JWT access tokens revoked, audits
   * `grant.revoked` and publishes one `tokens.revoked` naming those tokens — all in one
   * transaction (the caller's `trx` when given). Listeners hear the event after the commit.
   */
  revokeUser(userId: string, reason: string, options?: RevokeUserOptions): Promise<void>;
}

/** What the OAuth component needs from the tokens and identity components (their index.ts). */
export interface KeySource {
  providerJwks(): Promise<{ keys: Record<string, unknown>[] }>;
  publicJwks(): Promise<{ keys: Record<string, unknown>[] }>;
  version(): Promise<string>;
}

export interface AccountUser {
  id: string;
  username: string;
  email: string;
  status: 'active' | 'disabled';
  roles: string[];
}

export interface UserLookup {
  findById(id: string): Promise<AccountUser | undefined>;
}

export type LoginOutcome =
  | { ok: true; user: AccountUser }
  | { ok: false; reason: 'invalid_credentials' | 'throttled' | 'locked' | 'busy' | 'disabled'; retryAfter?: number };

export interface PasswordAuthenticator {
  authenticate(input: { username: string; password: string; ip: string }): Promise<LoginOutcome>;
}

export interface OAuthDeps {
  config: Config;
  store: Store;
  keys: KeySource;
  users: UserLookup;
  authenticator: PasswordAuthenticator;
  audit: AuditLog;
  events: Pick<EventBus, 'publish'>;
  clock: Clock;
  logger: Logger;
  cookieKeys: string[];
  /** Verifies our JWT access tokens for introspection and revocation (the tokens component's one path). */
  verifier: Pick<AccessTokenVerifier, 'inspect'>;
  metrics?: Metrics;
  /** Per-client-IP refusal limiting (src/shared/refusal-limit.ts). */
  refusals?: RefusalLimiter;
  /** Personal API tokens, for the token-exchange grant (./token-exchange.ts). */
  apiTokens: Pick<ApiTokenService, 'lookupForExchange' | 'markUsed'>;
  /** External identity providers: "Sign in with …" on the login page (./interactions/federation.ts). */
  federation?: Federation;
}

export interface OAuth {
  clients: ClientService;
  /** The third-party apps each user has connected (account page, admin API): list and disconnect. */
  connectedApps: Pick<ConnectedApps, 'list' | 'disconnect'>;
  revocation: GrantRevocation;
  register(app: FastifyInstance): void;
  close(): Promise<void>;
}
