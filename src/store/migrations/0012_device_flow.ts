import type { Kysely } from 'kysely';
import type { Dialect } from '../db.ts';

/**
 * The device flow (RFC 8628) finds a device code by the user code a person types at /device:
 * an index, so that lookup — unauthenticated, limited per IP but not rare — never scans the table.
 * Not unique: user codes are random (20^8) and oidc-provider does not retry a collision, so a
 * unique index would turn a one-in-billions clash into a failed request; the adapter prefers the
 * newest code instead.
 */
export function deviceFlow(_dialect: Dialect) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('oidc_models_user_code').on('oidc_models').columns(['model', 'user_code']).execute();
    },
    async down(): Promise<void> {
      throw new Error('migrations are forward-only');
    },
  };
}
