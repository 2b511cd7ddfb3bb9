/** Narrow queries on `federated_identities` (and the two user lookups linking needs). Every function takes an Executor. */
import type { Executor } from '../../store/index.ts';

export interface IdentityRow {
  provider: string;
  subject: string;
  userId: string;
  label: string | null;
  linkedAt: number;
}

const toRow = (row: { provider: string; subject: string; user_id: string; label: string | null; linked_at: number }): IdentityRow => ({
  provider: row.provider,
  subject: row.subject,
  userId: row.user_id,
  label: row.label,
  linkedAt: Number(row.linked_at),
});

export async function findLink(db: Executor, provider: string, subject: string): Promise<IdentityRow | undefined> {
  const row = await db.selectFrom('federated_identities').select(['provider', 'subject', 'user_id', 'label', 'linked_at']).where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
  return row ? toRow(row) : undefined;
}

export async function insertLink(db: Executor, link: IdentityRow): Promise<void> {
  await db.insertInto('federated_identities').values({ provider: link.provider, subject: link.subject, user_id: link.userId, label: link.label, linked_at: link.linkedAt, last_login_at: null }).execute();
}

export async function listLinks(db: Executor, userId: string): Promise<IdentityRow[]> {
  const rows = await db.selectFrom('federated_identities').select(['provider', 'subject', 'user_id', 'label', 'linked_at']).where('user_id', '=', userId).orderBy('linked_at').orderBy('provider').execute();
  return rows.map(toRow);
}

export async function deleteLink(db: Executor, userId: string, provider: string, subject: string): Promise<boolean> {
  const result = await db.deleteFrom('federated_identities').where('user_id', '=', userId).where('provider', '=', provider).where('subject', '=', subject).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function touchLogin(db: Executor, provider: string, subject: string, at: number): Promise<void> {
  await db.updateTable('federated_identities').set({ last_login_at: at }).where('provider', '=', provider).where('subject', '=', subject).execute();
}

/** The local user holding this e-mail address, if any — for the audit row only, never to link. */
export async function userIdByEmail(db: Executor, email: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('id').where('email_key', '=', email.toLowerCase()).executeTakeFirst();
  return row?.id;
}

export async function hasPassword(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', userId).executeTakeFirst();
  return typeof row?.password_hash === 'string' && row.password_hash !== '';
}
