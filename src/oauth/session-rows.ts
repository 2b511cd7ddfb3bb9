/**
 * oidc-provider's sign-in sessions as stored by our adapter (`oidc_models`, model `Session`): one
 * row per browser session, keyed by the session cookie's value (a secret, never shown), with a
 * public `uid`. Each client signed in through the session has an entry in `authorizations`: the
 * `sid` its tokens carry and the grant they were issued under.
 */
import type { Executor } from '../store/index.ts';

export interface StoredSession {
  /** The cookie value (row id): a secret; used only to delete the row. */
  rowId: string;
  /** Public identifier of the session. */
  uid: string;
  accountId: string;
  /** Epoch s of the sign-in. */
  signedInAt: number | undefined;
  expiresAt: number | undefined;
  /** Per client signed in through this session. */
  authorizations: Array<{ clientId: string; sid: string | undefined; grantId: string | undefined }>;
}

interface SessionPayload {
  uid?: unknown;
  accountId?: unknown;
  loginTs?: unknown;
  exp?: unknown;
  authorizations?: Record<string, { sid?: unknown; grantId?: unknown }>;
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function toSession(row: { id: string; payload: string; expires_at: number | null }): StoredSession | undefined {
  let payload: SessionPayload;
  try {
    payload = JSON.parse(row.payload) as SessionPayload;
  } catch {
    return undefined;
  }
  const uid = str(payload.uid);
  const accountId = str(payload.accountId);
  if (!uid || !accountId) return undefined; // a session nobody signed in to yet
  const authorizations = Object.entries(payload.authorizations ?? {}).map(([clientId, entry]) => ({ clientId, sid: str(entry?.sid), grantId: str(entry?.grantId) }));
  return { rowId: row.id, uid, accountId, signedInAt: num(payload.loginTs), expiresAt: row.expires_at === null ? num(payload.exp) : Number(row.expires_at), authorizations };
}

/** The user's unexpired sessions (optionally only those with the given uids), oldest sign-in first. */
export async function selectSessions(executor: Executor, userId: string, now: number, uids?: readonly string[]): Promise<StoredSession[]> {
  let query = executor
    .selectFrom('oidc_models')
    .select(['id', 'payload', 'expires_at'])
    .where('model', '=', 'Session')
    .where('account_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  if (uids !== undefined) {
    if (uids.length === 0) return [];
    query = query.where('uid', 'in', [...uids]);
  }
  const sessions = (await query.execute()).map(toSession).filter((s): s is StoredSession => s !== undefined && s.accountId === userId);
  return sessions.sort((a, b) => (a.signedInAt ?? 0) - (b.signedInAt ?? 0));
}

/** When a token was last issued under each of `sids` (the session's last activity), by sid. */
export async function lastIssued(executor: Executor, userId: string, sids: readonly string[]): Promise<Map<string, number>> {
  if (sids.length === 0) return new Map();
  const rows = await executor
    .selectFrom('issued_tokens')
    .select((eb) => ['session_id', eb.fn.max('issued_at').as('last')])
    .where('subject', '=', userId)
    .where('session_id', 'in', [...sids])
    .groupBy('session_id')
    .execute();
  return new Map(rows.filter((r) => r.session_id !== null && r.last !== null).map((r) => [r.session_id!, Number(r.last)]));
}
