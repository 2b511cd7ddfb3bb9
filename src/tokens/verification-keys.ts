/**
 * Verify-only keys: the public keys of another issuer (the identity provider Gatehouse replaces)
 * published in our JWKS, so tokens it signed stay valid through a migration. They have no private
 * half here and are never handed to oidc-provider, so nothing is ever signed with them. An
 * expiry drops a key from JWKS at the end of the migration window; `remove` drops it at once.
 */
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Executor, Store } from '../store/index.ts';
import { isUniqueViolation } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { GatehouseError, fail } from '../shared/errors.ts';
import { publicJwkFromPem } from './key-material.ts';

export interface VerificationKeyInfo {
  kid: string;
  alg: string;
  createdAt: number;
  /** Leaves JWKS after this time (epoch s); null: until removed. */
  expiresAt: number | null;
  createdBy: string | null;
}

export interface ImportVerificationKey {
  /** PEM public key (SPKI) or X.509 certificate. */
  pem: string;
  /** Default: the RFC 7638 thumbprint. */
  kid?: string | undefined;
  /** Checked against the key; inferred when absent. */
  alg?: string | undefined;
  expiresAt?: number | undefined;
}

export interface VerificationKeys {
  import(input: ImportVerificationKey, actor: string): Promise<VerificationKeyInfo>;
  /** Throws not_found for an unknown kid, conflict for a signing key (those leave JWKS by rotation). */
  remove(kid: string, actor: string): Promise<void>;
  list(): Promise<VerificationKeyInfo[]>;
  /** Public JWKs of the unexpired keys, for JWKS. */
  published(executor?: Executor): Promise<JWK[]>;
}

const KID = /^[A-Za-z0-9._~-]{1,200}$/;

export function createVerificationKeys(deps: { store: Store; clock: Clock; audit: AuditLog }): VerificationKeys {
  const { store, clock, audit } = deps;
  const info = (row: { kid: string; alg: string; created_at: number; expires_at: number | null; created_by: string | null }): VerificationKeyInfo => ({
    kid: row.kid,
    alg: row.alg,
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    createdBy: row.created_by,
  });

  return {
    async import(input, actor) {
      let parsed: ReturnType<typeof publicJwkFromPem>;
      try {
        parsed = publicJwkFromPem(input.pem, input.alg);
      } catch (error) {
        throw fail.invalid((error as Error).message);
      }
      const kid = input.kid ?? (await calculateJwkThumbprint(parsed.jwk, 'sha256'));
      if (!KID.test(kid)) throw fail.invalid('kid: 1–200 characters: letters, digits, . _ ~ -');
      const now = epochSeconds(clock);
      if (input.expiresAt !== undefined && input.expiresAt <= now) throw fail.invalid('the expiry must be in the future');
      const row = { kid, alg: parsed.alg, public_jwk: JSON.stringify(parsed.jwk), created_at: now, expires_at: input.expiresAt ?? null, created_by: actor };
      try {
        await store.transaction(async (trx) => {
          const signing = await trx.selectFrom('signing_keys').select('kid').where('kid', '=', kid).executeTakeFirst();
          if (signing) throw fail.conflict(`kid ${kid} is one of Gatehouse's signing keys`);
          await trx.insertInto('verification_keys').values(row).execute();
          await audit.record({ event: 'key.imported', actor, subject: kid, data: { alg: parsed.alg, verifyOnly: true, expiresAt: row.expires_at } }, trx);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw fail.conflict(`a verify-only key with kid ${kid} already exists`);
        throw error;
      }
      return info(row);
    },

    async remove(kid, actor) {
      await store.transaction(async (trx) => {
        const deleted = await trx.deleteFrom('verification_keys').where('kid', '=', kid).executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) {
          const signing = await trx.selectFrom('signing_keys').select('state').where('kid', '=', kid).executeTakeFirst();
          if (signing) throw new GatehouseError('conflict', `${kid} is a signing key (${signing.state}): signing keys leave JWKS through rotation (keys rotate)`);
          throw fail.notFound(`verify-only key ${kid}`);
        }
        await audit.record({ event: 'key.removed', actor, subject: kid, data: { verifyOnly: true } }, trx);
      });
    },

    async list() {
      const rows = await store.db.selectFrom('verification_keys').selectAll().orderBy('created_at', 'asc').orderBy('kid', 'asc').execute();
      return rows.map(info);
    },

    async published(executor = store.db) {
      const now = epochSeconds(clock);
      const rows = await executor
        .selectFrom('verification_keys')
        .select(['kid', 'alg', 'public_jwk'])
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .orderBy('created_at', 'asc')
        .orderBy('kid', 'asc')
        .execute();
      return rows.map((row) => ({ ...(JSON.parse(row.public_jwk) as JWK), kid: row.kid, alg: row.alg, use: 'sig' }));
    },
  };
}
