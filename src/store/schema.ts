/**
 * Table types of the store. Timestamps are integer seconds since the epoch; JSON columns are
 * text; booleans are 0/1 integers (SQLite has no boolean). See ./migrations for the DDL.
 */
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface UsersTable {
  id: string;
  username: string;
  /** Lower-cased username: uniqueness and lookups ignore case. */
  username_key: string;
  email: string;
  email_key: string;
  /** PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`; null when the user has no password. */
  password_hash: string | null;
  status: 'active' | 'disabled';
  created_at: number;
  updated_at: number;
  password_changed_at: number | null;
}

export interface UserRolesTable {
  user_id: string;
  role: string;
  granted_at: number;
}

export interface ClientsTable {
  client_id: string;
  name: string;
  first_party: number;
  /** SHA-256 hex digest of the secret; null for public clients. */
  secret_digest: string | null;
  /** JSON: string[] */
  redirect_uris: string;
  /** JSON: string[] */
  post_logout_redirect_uris: string;
  /** JSON: string[] */
  grant_types: string;
  /** Space-separated scopes the client may request. */
  scope: string;
  /** JSON: string[] — roles of a service client (client_credentials tokens carry them). */
  roles: string;
  /** Lifetime of this client's access tokens in seconds; null: tokens.accessTokenTtl. */
  access_token_ttl: number | null;
  created_at: number;
  updated_at: number;
  /** client_secret_basic | client_secret_post | private_key_jwt | none; null: none without a secret, else client_secret_basic. */
  token_endpoint_auth_method: string | null;
  /** JSON: the inline JWKS of a private_key_jwt client (public keys). */
  jwks: string | null;
  /** Where a private_key_jwt client publishes its JWKS. */
  jwks_uri: string | null;
  /** SHA-256 hex digest of the secret before the last rotation, accepted until previous_secret_expires_at. */
  previous_secret_digest: string | null;
  previous_secret_expires_at: number | null;
}

/** Every oidc-provider model (sessions, grants, codes, refresh tokens, interactions …). */
export interface OidcModelsTable {
  model: string;
  id: string;
  /** JSON payload as oidc-provider gave it. */
  payload: string;
  grant_id: string | null;
  uid: string | null;
  user_code: string | null;
  expires_at: number | null;
  consumed_at: number | null;
  /** The user the row belongs to (payload.accountId), for revoking everything of a user. */
  account_id: string | null;
}

/** Access tokens issued (JWTs are not stored by the provider): what a revocation must name. */
export interface IssuedTokensTable {
  jti: string;
  grant_id: string | null;
  subject: string;
  session_id: string | null;
  client_id: string;
  expires_at: number;
  /** Set when the token was revoked before it expired. */
  revoked_at: number | null;
  /** The personal API token this JWT was exchanged for (src/tokens/api-tokens), if any. */
  api_token_id?: string | null;
  /** When it was issued (null for rows recorded before migration 0013). */
  issued_at: number | null;
}

/** Personal API tokens: only the SHA-256 digest of the secret is kept. */
export interface ApiTokensTable {
  /** Public id: lists, the CLI and revocation name the token by it. */
  id: string;
  user_id: string;
  name: string;
  /** JSON: string[] — permission names. */
  scopes: string;
  /** SHA-256 hex digest of the token. */
  digest: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
  last_used_address: string | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  /** next: published, not yet signing · active: signs · retired: published until retire_until. */
  state: 'next' | 'active' | 'retired';
  public_jwk: string;
  /** AES-256-GCM encrypted private JWK (see tokens/key-encryption.ts). */
  private_jwk_enc: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** A retired key leaves JWKS after this time: every token it signed has expired. */
  retire_until: number | null;
}

/** Public keys of another issuer, published in JWKS for verification only (never used to sign). */
export interface VerificationKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  created_at: number;
  /** Leaves JWKS after this time; null: until removed. */
  expires_at: number | null;
  created_by: string | null;
}

/** Security Event Tokens, kept so stream subscribers can resume after a reconnect. */
export interface SecurityEventsTable {
  seq: Generated<number>;
  jti: string;
  event_type: string;
  subject: string | null;
  /** The signed SET (compact JWS). */
  set_jwt: string;
  created_at: number;
}

/** Acknowledged position of an RFC 8936 poll subscriber (`subscriber` = its client_id). */
export interface EventCursorsTable {
  subscriber: string;
  /** Every event with seq <= acked_seq is acknowledged. */
  acked_seq: number;
  updated_at: number;
}

/** Append-only (triggers refuse UPDATE and DELETE). */
export interface AuditLogTable {
  seq: Generated<number>;
  at: number;
  event: string;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  reason: string | null;
  /** JSON object with extra fields. */
  data: string | null;
}

/** Failed-login counters, per account (`acct:<username_key>`) and per IP (`ip:<addr>`). */
export interface LoginThrottleTable {
  key: string;
  failures: number;
  first_failure_at: number;
  last_failure_at: number;
  locked_until: number | null;
}

export interface CaCertificatesTable {
  id: string;
  kind: 'root' | 'intermediate';
  /** active: in use · next: published in the bundle ahead of a rotation · retired. */
  status: 'active' | 'next' | 'retired';
  cert_pem: string;
  /** Encrypted PKCS#8 private key; null when the key is offline (root after --offline-root). */
  key_enc: string | null;
  not_after: number;
  created_at: number;
  /** Intermediates: the root that signed it. */
  parent_id: string | null;
  /** When a rotation retired it (it still signs its CRL while leaves under it are valid). */
  retired_at: number | null;
  /** When a retired CA left the trust bundle (every leaf under it expired); its key is erased. */
  dropped_at: number | null;
}

export interface CertificatesTable {
  serial: string;
  service: string;
  spiffe_id: string;
  /** JSON: { dns: string[], ip: string[] } */
  sans: string;
  not_before: number;
  not_after: number;
  /** Who asked: `join-token:<id>`, `renewal:<serial>`, `cli:<user>`. */
  requested_by: string;
  status: 'valid' | 'revoked';
  revoked_at: number | null;
  revocation_reason: string | null;
  cert_pem: string;
  created_at: number;
  /** ca_certificates.id of the intermediate that signed it. */
  issuer_id: string | null;
  /** SHA-256 (hex) of the certified key's DER SubjectPublicKeyInfo. */
  spki_sha256: string | null;
}

export interface JoinTokensTable {
  id: string;
  /** SHA-256 hex digest of the secret part. */
  digest: string;
  service: string;
  expires_at: number;
  used_at: number | null;
  created_by: string | null;
  created_at: number;
}

/** The current CRL of each CA (root or intermediate, by ca_certificates.id). */
export interface CaCrlsTable {
  ca_id: string;
  crl_number: number;
  crl_pem: string;
  this_update: number;
  next_update: number;
}

/** An identity at an external identity provider linked to a local user (migration 0011). */
export interface FederatedIdentitiesTable {
  provider: string;
  subject: string;
  user_id: string;
  /** What the account page shows (the username or e-mail at the provider, when it sent one). */
  label: string | null;
  linked_at: number;
  last_login_at: number | null;
}

export interface Database {
  users: UsersTable;
  user_roles: UserRolesTable;
  clients: ClientsTable;
  oidc_models: OidcModelsTable;
  issued_tokens: IssuedTokensTable;
  signing_keys: SigningKeysTable;
  verification_keys: VerificationKeysTable;
  security_events: SecurityEventsTable;
  event_cursors: EventCursorsTable;
  audit_log: AuditLogTable;
  login_throttle: LoginThrottleTable;
  ca_certificates: CaCertificatesTable;
  certificates: CertificatesTable;
  join_tokens: JoinTokensTable;
  ca_crls: CaCrlsTable;
  api_tokens: ApiTokensTable;
  federated_identities: FederatedIdentitiesTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUserRow = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type ClientRow = Selectable<ClientsTable>;
export type ApiTokenRow = Selectable<ApiTokensTable>;
export type SigningKeyRow = Selectable<SigningKeysTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type SecurityEventRow = Selectable<SecurityEventsTable>;
export type CertificateRow = Selectable<CertificatesTable>;
export type CaCertificateRow = Selectable<CaCertificatesTable>;
export type JoinTokenRow = Selectable<JoinTokensTable>;
