/** Narrow queries on `users` and `user_roles`. Every function takes an Executor so callers can batch writes in one transaction. */
import type { Executor, UserRow } from '../store/index.ts';
import type { User } from './types.ts';

type UserColumns = Omit<UserRow, 'password_hash'> & { password_hash?: string | null };

export function toUser(row: UserColumns, roles: string[]): User {
  return {
    id: row.id,
    username: row.username,
    email: row.email,
    status: row.status,
    roles: [...roles].sort(),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    passwordChangedAt: row.password_changed_at === null ? null : Number(row.password_changed_at),
  };
}

/** One query: the user row joined with its roles (one result row per role). */
export async function selectUserWithRoles(db: Executor, where: { id: string } | { usernameKey: string }): Promise<{ row: UserRow; roles: string[] } | undefined> {
  let query = db
    .selectFrom('users')
    .leftJoin('user_roles', 'user_roles.user_id', 'users.id')
    .selectAll('users')
    .select('user_roles.role as role');
  query = 'id' in where ? query.where('users.id', '=', where.id) : query.where('users.username_key', '=', where.usernameKey);
  const rows = await query.execute();
  const first = rows[0];
  if (!first) return undefined;
  const { role: _role, ...row } = first;
  return { row: row as UserRow, roles: rows.flatMap((r) => (r.role === null ? [] : [r.role])) };
}

export async function selectAllUsers(db: Executor): Promise<User[]> {
  const [rows, roleRows] = await Promise.all([
    db.selectFrom('users').selectAll().orderBy('username_key').execute(),
    db.selectFrom('user_roles').select(['user_id', 'role']).execute(),
  ]);
  const roles = new Map<string, string[]>();
  for (const { user_id, role } of roleRows) roles.set(user_id, [...(roles.get(user_id) ?? []), role]);
  return rows.map((row) => toUser(row, roles.get(row.id) ?? []));
}

export async function takenBy(db: Executor, usernameKey: string, emailKey: string): Promise<'username' | 'email' | undefined> {
  const row = await db
    .selectFrom('users')
    .select(['username_key', 'email_key'])
    .where((eb) => eb.or([eb('username_key', '=', usernameKey), eb('email_key', '=', emailKey)]))
    .executeTakeFirst();
  if (!row) return undefined;
  return row.username_key === usernameKey ? 'username' : 'email';
}

/** The id of the user with this username key, if there is one (one indexed lookup, no roles). */
export async function selectUserId(db: Executor, usernameKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('id').where('username_key', '=', usernameKey).executeTakeFirst();
  return row?.id;
}
