/**
 * One key, one identity. The CA refuses to certify a public key that is
 * - one of its own CA keys (any root or intermediate it ever had): a leaf must never share a key
 *   with a CA;
 * - already certified for ANOTHER service: revoking one service would leave its key trusted under
 *   the other name;
 * - the key of a revoked certificate (of any service): a revoked, possibly compromised key is not
 *   certified again.
 * Re-certifying a key for the same service while its certificates are valid is allowed. Keys are
 * compared as the SHA-256 of their DER SubjectPublicKeyInfo, recorded with every certificate
 * (`certificates.spki_sha256`).
 */
import type { Executor } from '../store/index.ts';
import { GatehouseError } from '../shared/errors.ts';
import type { IssuanceStatements } from './repository.ts';

export type KeyRefusal = 'ca_key' | 'key_reused' | 'key_revoked';

/** Why `spkiSha256` may not be certified for `service`, or undefined when it may. */
export async function keyRefusal(db: Executor, statements: IssuanceStatements, caKeys: ReadonlySet<string>, spkiSha256: string, service: string): Promise<{ reason: KeyRefusal; detail: string } | undefined> {
  if (caKeys.has(spkiSha256)) return { reason: 'ca_key', detail: 'the CSR carries a public key of the CA itself' };
  const row = await statements.conflictingCertificate(db, spkiSha256, service);
  if (!row) return undefined;
  if (row.service !== service) return { reason: 'key_reused', detail: `the key is already certified for service ${row.service} (serial ${row.serial})` };
  return { reason: 'key_revoked', detail: `the key belongs to revoked certificate ${row.serial}` };
}

/** The refusal the client sees: which rule, never which other service holds the key. */
export function keyNotAllowed(reason: KeyRefusal, detail: string): GatehouseError {
  const description = reason === 'ca_key' ? 'The CSR carries a public key of the CA itself' : reason === 'key_revoked' ? 'The CSR carries the key of a revoked certificate: generate a new key' : 'The CSR carries a key already certified for another identity: generate a new key';
  return new GatehouseError('key_not_allowed', description, { detail, extensions: { reason } });
}
