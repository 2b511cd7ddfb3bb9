/**
 * Every column that holds a value sealed under the master key (src/shared/sealed.ts), with the
 * associated data each value is bound to. It is the one list `gatehouse secrets rekey` walks:
 * a new sealed column goes here (test/secrets-rekey.test.ts checks that every `*_enc` column of
 * the schema is listed), and its component seals with the context function given here.
 */
import { seal, unseal, sealedKeyId, masterKeyId } from '../shared/sealed.ts';
import type { Kysely } from 'kysely';
import type { Executor, Store, StoreTransaction } from './db.ts';

/** Associated data of a CA private key (`ca_certificates.key_enc`). */
export const caKeyContext = (id: string): string => `ca:${id}`;
/** Associated data of a signing key's private JWK (`signing_keys.private_jwk_enc`): its kid. */
export const signingKeyContext = (kid: string): string => kid;

interface SealedColumn {
  table: 'signing_keys' | 'ca_certificates';
  /** Primary key column. */
  id: string;
  column: string;
  context: (id: string) => string;
}

export const sealedColumns: readonly SealedColumn[] = [
  { table: 'signing_keys', id: 'kid', column: 'private_jwk_enc', context: signingKeyContext },
  { table: 'ca_certificates', id: 'id', column: 'key_enc', context: caKeyContext },
];

export interface RekeySummary {
  /** Id of the master key everything is sealed under now. */
  masterKeyId: string;
  /** Values re-sealed, per table. */
  resealed: Record<string, number>;
  /** Values that were sealed under the current master key already. */
  alreadyCurrent: number;
}

/**
 * Re-seals every sealed value under `current`: values sealed under `old` (by key id, or a v1
 * value without one that opens with it) are opened and sealed again; values already under
 * `current` are left alone (so a rekey interrupted before commit, or run twice, is harmless).
 * A value under any other key throws: nothing is written (call it inside one transaction).
 */
export async function resealAll(db: Executor, keys: { current: Buffer; old: Buffer }): Promise<RekeySummary> {
  const currentId = masterKeyId(keys.current);
  const oldId = masterKeyId(keys.old);
  const summary: RekeySummary = { masterKeyId: currentId, resealed: {}, alreadyCurrent: 0 };
  // The table and column names come from the constant list above, never from input.
  const loose = db as unknown as Kysely<any>;
  for (const sealed of sealedColumns) {
    summary.resealed[sealed.table] = 0;
    const rows = (await loose.selectFrom(sealed.table).select([`${sealed.id} as id`, `${sealed.column} as value`]).where(sealed.column, 'is not', null).execute()) as Array<{ id: string; value: string }>;
    for (const row of rows) {
      const keyId = sealedKeyId(row.value);
      if (keyId === currentId) {
        summary.alreadyCurrent += 1;
        continue;
      }
      if (keyId !== undefined && keyId !== oldId) {
        throw new Error(`${sealed.table} ${row.id} is sealed under master key ${keyId}, neither the current one (${currentId}) nor the old one given (${oldId}): nothing was re-sealed`);
      }
      const context = sealed.context(row.id);
      let plaintext: string;
      try {
        plaintext = unseal(keys.old, row.value, context);
      } catch (error) {
        // A v1 value carries no id: it may be under the current key already.
        if (keyId !== undefined) throw error;
        plaintext = unseal(keys.current, row.value, context);
      }
      await loose.updateTable(sealed.table).set({ [sealed.column]: seal(keys.current, plaintext, context) }).where(sealed.id, '=', row.id).execute();
      summary.resealed[sealed.table] = (summary.resealed[sealed.table] ?? 0) + 1;
    }
  }
  return summary;
}

/** `resealAll` in one transaction, with `record` (the audit entry) in the same transaction. */
export function rekeyStore(store: Store, keys: { current: Buffer; old: Buffer }, record?: (trx: StoreTransaction, summary: RekeySummary) => Promise<void>): Promise<RekeySummary> {
  return store.transaction(async (trx) => {
    const summary = await resealAll(trx, keys);
    await record?.(trx, summary);
    return summary;
  });
}
