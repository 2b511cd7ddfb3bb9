/**
 * The public shapes of personal API tokens: what the CLI, the admin API, the account page
 * (shared contract 3) and the token-exchange grant (contract 2) use.
 */
import type { StoreTransaction } from '../../store/index.ts';

/** What lists show: never the token itself. Times are epoch seconds. */
export interface ApiTokenSummary {
  id: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  lastUsedAt?: number;
  lastUsedAddress?: string;
}

export interface CreateApiTokenInput {
  userId: string;
  name: string;
  /** Permission names, each overlapping at least one of the owner's current permissions. */
  scopes: string[];
  /** Lifetime in seconds, at most apiTokens.maxTtl. */
  expiresIn: number;
}

/** The owner as identity knows them (structural: tokens may not import identity). */
export interface ApiTokenOwner {
  id: string;
  username: string;
  status: 'active' | 'disabled';
  roles: string[];
}

/** Why an exchange was refused (the audit reason); the client always sees `invalid_grant`. */
export type ExchangeRefusal = 'malformed' | 'checksum_mismatch' | 'unknown' | 'expired' | 'revoked' | 'owner_disabled';

export type ExchangeLookup =
  | { ok: true; tokenId: string; owner: ApiTokenOwner; scopes: string[]; expiresAt: number }
  | { ok: false; reason: ExchangeRefusal; tokenId?: string; userId?: string };

export interface ApiTokenService {
  /** Makes a token; the token string is in this answer only (it is stored as a digest). */
  create(input: CreateApiTokenInput, actor: string): Promise<{ token: string; summary: ApiTokenSummary }>;
  /** The user's live tokens (neither revoked nor expired), oldest first. */
  list(userId: string): Promise<ApiTokenSummary[]>;
  /** Revokes one of the user's tokens; false when the user has no such live token. */
  revoke(userId: string, id: string, actor: string): Promise<boolean>;
  /** Revokes a token by id whoever owns it (the CLI, an administrator); false when there is none live. */
  revokeById(id: string, actor: string): Promise<boolean>;
  /** The public "I found a leaked token" revocation: true when a live token was revoked. */
  revokeLeaked(token: string, context: { ip?: string }): Promise<boolean>;
  /**
   * The checks of the token-exchange grant, in order: shape and checksum (no store access),
   * digest, revocation, expiry, owner active. A refusal is audited `api_token.refused`.
   */
  lookupForExchange(token: string, context: { ip?: string; clientId?: string }): Promise<ExchangeLookup>;
  /** Records a use (last-used time and address); false if the token was revoked meanwhile. */
  markUsed(id: string, address: string | null): Promise<boolean>;
}

export interface ApiTokenDeps {
  /** The owner by id; undefined when gone. */
  findUser(id: string): Promise<ApiTokenOwner | undefined>;
  /** The owner's current permission names under the compiled policy. */
  permissionsFor(roles: readonly string[]): { readonly list: readonly string[] };
  /**
   * Inside `trx`: marks the JWTs exchanged for this API token revoked and publishes one
   * `tokens.revoked` naming them (reason `api_token_revoked`). Wired to the OAuth revoker.
   */
  revokeExchanged(apiTokenId: string, subject: string, trx: StoreTransaction): Promise<number>;
}
