/**
 * The audit log: append-only security events named `noun.past_verb` (docs/audit-events.md lists
 * them all; a test keeps the list and this union in step).
 */
import type { Insertable } from 'kysely';
import { prepared, type AuditLogTable, type Executor } from '../store/index.ts';
import { epochSeconds, systemClock, type Clock } from '../shared/clock.ts';

export const auditEvents = [
  'login.succeeded',
  'login.failed',
  'account.locked',
  'ip.blocked',
  'logout.succeeded',
  'consent.granted',
  'consent.denied',
  'consent.revoked',
  'token.issued',
  'service_token.issued',
  'token.refused',
  'token.revoked',
  'authorization.refused',
  'interaction.refused',
  'introspection.refused',
  'revocation.refused',
  'refresh_token.reused',
  'code.reused',
  'grant.revoked',
  'user.created',
  'user.disabled',
  'user.enabled',
  'password.changed',
  'role.granted',
  'role.revoked',
  'client.created',
  'client.removed',
  'client.updated',
  'client.secret_rotated',
  'client.registered',
  'client.registration_refused',
  'key.rotated',
  'key.imported',
  'key.removed',
  'ca.initialized',
  'ca.rotated',
  'cert.issued',
  'cert.renewed',
  'cert.revoked',
  'enrollment.refused',
  'join_token.created',
  'admin.denied',
  'master_key.rotated',
  'ca.key_exported',
  'api_token.created',
  'api_token.revoked',
  'api_token.exchanged',
  'api_token.refused',
  'identity.linked',
  'identity.unlinked',
  'identity.link_refused',
  'session.ended',
  'account.form_refused',
  'device.authorized',
  'device.denied',
  'user_code.refused',
] as const;

export type AuditEvent = (typeof auditEvents)[number];

export interface AuditEntry {
  event: AuditEvent;
  /** Who did it: `user:<id>`, `client:<id>`, `cli`, `system`, `ip:<addr>`. */
  actor?: string | null;
  /** What it was done to (user id, client id, certificate serial …). */
  subject?: string | null;
  clientId?: string | null;
  ip?: string | null;
  /** A stable reason code, e.g. `invalid_credentials`, `locked`, `csr_identity_mismatch`. */
  reason?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditRecord extends Required<Omit<AuditEntry, 'data'>> {
  seq: number;
  at: number;
  data: Record<string, unknown> | null;
}

export interface AuditLog {
  /** Appends an entry; pass `trx` to make it part of the caller's transaction. */
  record(entry: AuditEntry, trx?: Executor): Promise<void>;
  /** Oldest first. With `latest`, the limit keeps the most recent entries (still returned oldest first). */
  list(query: { since?: number; limit?: number; event?: AuditEvent; subject?: string; latest?: boolean }): Promise<AuditRecord[]>;
}

export function createAuditLog(db: Executor, clock: Clock = systemClock): AuditLog {
  // Every security-relevant request appends a row, often inside the caller's transaction: the
  // insert is compiled once (../store/prepared.ts), not built per entry.
  const insert = prepared(db, (db, row: Insertable<AuditLogTable>) =>
    db.insertInto('audit_log').values({ at: row.at, event: row.event, actor: row.actor, subject: row.subject, client_id: row.client_id, ip: row.ip, reason: row.reason, data: row.data }),
  );
  return {
    async record(entry, trx) {
      await insert(trx ?? db, {
        at: epochSeconds(clock),
        event: entry.event,
        actor: entry.actor ?? null,
        subject: entry.subject ?? null,
        client_id: entry.clientId ?? null,
        ip: entry.ip ?? null,
        reason: entry.reason ?? null,
        data: entry.data === undefined ? null : JSON.stringify(entry.data),
      });
    },
    async list(query) {
      let q = db.selectFrom('audit_log').selectAll().orderBy('seq', query.latest ? 'desc' : 'asc');
      if (query.since !== undefined) q = q.where('at', '>=', query.since);
      if (query.event !== undefined) q = q.where('event', '=', query.event);
      if (query.subject !== undefined) q = q.where('subject', '=', query.subject);
      const rows = await q.limit(query.limit ?? 1000).execute();
      if (query.latest) rows.reverse();
      return rows.map((row) => ({
        seq: Number(row.seq),
        at: Number(row.at),
        event: row.event as AuditEvent,
        actor: row.actor,
        subject: row.subject,
        clientId: row.client_id,
        ip: row.ip,
        reason: row.reason,
        data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
      }));
    },
  };
}
