/**
 * Join-token provisioner: "who may enroll as which service".
 *
 * Token format: `ghjt.<id>.<secret>.<root-sha256-hex>` — the id finds the row, the secret (256
 * random bits) proves possession and is stored only as a SHA-256 digest, and the root CA's
 * fingerprint lets a new workload pin the CA's TLS certificate before it has any trust (the
 * smallstep approach: the bootstrap secret carries the trust anchor).
 *
 * One use: consumption is a conditional UPDATE (unused, unexpired, digest matches) run in the
 * same transaction that records the certificate. A token presented with the right secret is
 * BURNED even if the CSR is then refused (bad CSR, name not granted): a leaked token must not
 * be probed repeatedly. A wrong secret burns nothing (else anyone who saw the id could burn it).
 */
import { randomBytes } from 'node:crypto';
import { randomToken, sha256Hex } from '../../shared/random.ts';
import { SERVICE_NAME, isReservedService, formatJoinToken, parseJoinToken } from '../../x509/index.ts';
import { GatehouseError } from '../../shared/errors.ts';
import type { Executor } from '../../store/index.ts';
import { consumeJoinToken, findJoinToken, insertJoinToken } from '../repository.ts';

// The format is parsed in one place, shared with the SDK (which reads the fingerprint to pin).
export { formatJoinToken, parseJoinToken, type ParsedJoinToken } from '../../x509/index.ts';

export interface MintedJoinToken {
  token: string;
  id: string;
  service: string;
  expiresAt: number;
  rootFingerprint: string;
}

export interface MintRequest {
  service: string;
  /** Seconds; default config.pki.joinTokenTtl, capped by config.pki.maxJoinTokenTtl. */
  ttlSeconds?: number | undefined;
  createdBy: string;
}

export async function mintJoinToken(
  db: Executor,
  limits: { joinTokenTtl: number; maxJoinTokenTtl: number },
  rootFingerprint: string,
  now: number,
  request: MintRequest,
): Promise<MintedJoinToken> {
  if (!SERVICE_NAME.test(request.service)) {
    throw new GatehouseError('invalid_request', `Expected a service name like orders (a-z, 0-9, -), received ${JSON.stringify(request.service)}`);
  }
  if (isReservedService(request.service)) {
    throw new GatehouseError('identity_not_allowed', `The service name ${request.service} is reserved for the CA itself`);
  }
  const ttl = request.ttlSeconds ?? limits.joinTokenTtl;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new GatehouseError('invalid_request', 'The token lifetime must be a positive duration');
  if (ttl > limits.maxJoinTokenTtl) {
    throw new GatehouseError('invalid_request', `The token lifetime may be at most ${limits.maxJoinTokenTtl}s (pki.maxJoinTokenTtl), received ${ttl}s`);
  }
  const id = randomBytes(8).toString('hex');
  const secret = randomToken(32);
  const expiresAt = now + ttl;
  await insertJoinToken(db, { id, digest: sha256Hex(secret), service: request.service, expires_at: expiresAt, used_at: null, created_by: request.createdBy, created_at: now });
  return { token: formatJoinToken(id, secret, rootFingerprint), id, service: request.service, expiresAt, rootFingerprint };
}

export type JoinTokenRefusal = 'malformed_token' | 'unknown_token' | 'token_expired' | 'token_used';

export type JoinTokenGrant =
  | { ok: true; tokenId: string; service: string; requestedBy: string }
  | { ok: false; reason: JoinTokenRefusal; tokenId: string | undefined; service: string | undefined };

/**
 * Consumes the token atomically (call inside the issuing transaction). Refusals say why, for
 * the audit log; the client only ever sees `invalid_join_token`.
 */
export async function redeemJoinToken(db: Executor, token: string, now: number): Promise<JoinTokenGrant> {
  const parsed = parseJoinToken(token);
  if (!parsed) return { ok: false, reason: 'malformed_token', tokenId: undefined, service: undefined };
  const digest = sha256Hex(parsed.secret);
  if (await consumeJoinToken(db, parsed.id, digest, now)) {
    const row = (await findJoinToken(db, parsed.id))!;
    return { ok: true, tokenId: row.id, service: row.service, requestedBy: `join-token:${row.id}` };
  }
  const row = await findJoinToken(db, parsed.id);
  // A wrong secret reads as unknown: it reveals nothing about the token that exists.
  if (!row || row.digest !== digest) return { ok: false, reason: 'unknown_token', tokenId: parsed.id, service: undefined };
  if (row.used_at !== null) return { ok: false, reason: 'token_used', tokenId: row.id, service: row.service };
  return { ok: false, reason: 'token_expired', tokenId: row.id, service: row.service };
}
