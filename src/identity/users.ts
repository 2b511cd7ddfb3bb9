/**
 * The user service: the one implementation behind the CLI (`gatehouse user …`) and the admin
 * API. Writes that belong together (user + roles + audit; status change, password change or role
 * revocation + the revocation of the user's tokens + audit + the revocation event) are one transaction: a
 * failure anywhere leaves nothing changed.
 */
import { randomUUID } from 'node:crypto';
import type { Store, StoreTransaction } from '../store/index.ts';
import { isStoreUnavailable, isUniqueViolation, storeUnavailable } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Config } from '../config/index.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { GatehouseError, fail } from '../shared/errors.ts';
import { parseInput, validationFailed } from '../shared/validation.ts';
import type { PasswordHasher } from './passwords.ts';
import type { PasswordPolicy } from './password-policy.ts';
import { createUserSchema, passwordSchema, roleNameSchema } from './schemas.ts';
import { hasPassword as userHasPassword } from './federation/identity-repository.ts';
import { selectAllUsers, selectUserWithRoles, takenBy, toUser } from './user-repository.ts';
import type { User, UserService } from './types.ts';

export interface UserServiceDeps {
  store: Store;
  audit: AuditLog;
  config: Config;
  clock: Clock;
  logger: Logger;
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  /** Revokes every grant and token of the user inside `trx` (see IdentityDeps.revokeUser). */
  revokeUser: (userId: string, reason: string, options: { trx: StoreTransaction; actor: string }) => Promise<void>;
}

/** Database outages become `store_unavailable` (503); everything else passes through. */
async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isStoreUnavailable(error)) throw storeUnavailable(error);
    throw error;
  }
}

export function createUserService(deps: UserServiceDeps): UserService {
  const { store, audit, config, clock, hasher, policy } = deps;
  const now = () => epochSeconds(clock);

  const lookup = async (idOrUsername: string): Promise<User | undefined> => {
    const found =
      (await selectUserWithRoles(store.db, { id: idOrUsername })) ??
      (await selectUserWithRoles(store.db, { usernameKey: idOrUsername.toLowerCase() }));
    return found ? toUser(found.row, found.roles) : undefined;
  };
  const find = async (idOrUsername: string): Promise<User> => {
    const user = await lookup(idOrUsername);
    if (!user) throw fail.notFound(`User ${JSON.stringify(idOrUsername)}`);
    return user;
  };
  const requireRole = (role: string): string => {
    const name = parseInput(roleNameSchema, role);
    if (!Object.hasOwn(config.roles, name)) {
      throw validationFailed([{ path: 'role', message: `unknown role ${JSON.stringify(name)}; known roles: ${Object.keys(config.roles).join(', ')}` }]);
    }
    return name;
  };
  /** Inside the caller's transaction: if revoking fails, the whole change rolls back. */
  const revoke = async (trx: StoreTransaction, userId: string, reason: string, actor: string) => {
    try {
      await deps.revokeUser(userId, reason, { trx, actor });
    } catch (error) {
      if (isStoreUnavailable(error)) throw error;
      deps.logger.error({ err: error, userId, reason }, 'revoking the user\'s tokens failed');
      throw new GatehouseError('internal_error', 'Revoking the user\'s tokens failed; nothing was changed. Try again', { cause: error });
    }
  };

  const setStatus = (status: User['status'], event: 'user.disabled' | 'user.enabled') => async (idOrUsername: string, actor: string) =>
    guarded(async () => {
      const user = await find(idOrUsername);
      await store.transaction(async (trx) => {
        if (user.status !== status) {
          await trx.updateTable('users').set({ status, updated_at: now() }).where('id', '=', user.id).execute();
          await audit.record({ event, actor, subject: user.id }, trx);
        }
        // Also when already disabled: revoking again is harmless and ends anything left over.
        if (status === 'disabled') await revoke(trx, user.id, 'user_disabled', actor);
      });
      return find(user.id);
    });

  return {
    create: (input, actor, options = {}) =>
      guarded(async () => {
        const valid = parseInput(createUserSchema, input);
        const roles = [...new Set(valid.roles.map(requireRole))];
        if (valid.password !== undefined) policy.check(valid.password, { username: valid.username, email: valid.email });
        const passwordHash = valid.password === undefined ? null : await hasher.hash(valid.password);
        const at = now();
        const id = randomUUID();
        const usernameKey = valid.username.toLowerCase();
        const emailKey = valid.email.toLowerCase();
        try {
          await store.transaction(async (trx) => {
            const taken = await takenBy(trx, usernameKey, emailKey);
            if (taken) throw fail.conflict(`That ${taken} is already taken`);
            await trx
              .insertInto('users')
              .values({ id, username: valid.username, username_key: usernameKey, email: valid.email, email_key: emailKey, password_hash: passwordHash, status: 'active', created_at: at, updated_at: at, password_changed_at: passwordHash ? at : null })
              .execute();
            if (roles.length > 0) await trx.insertInto('user_roles').values(roles.map((role) => ({ user_id: id, role, granted_at: at }))).execute();
            await audit.record({ event: 'user.created', actor, subject: id, data: { username: valid.username, roles } }, trx);
            await options.within?.(trx, id);
          });
        } catch (error) {
          if (isUniqueViolation(error)) throw fail.conflict('That username or email is already taken');
          throw error;
        }
        return find(id);
      }),

    list: () => guarded(() => selectAllUsers(store.db)),

    find: (idOrUsername) => guarded(() => find(idOrUsername)),

    findById: (id) =>
      guarded(async () => {
        const found = await selectUserWithRoles(store.db, { id });
        return found ? toUser(found.row, found.roles) : undefined;
      }),

    disable: setStatus('disabled', 'user.disabled'),
    enable: setStatus('active', 'user.enabled'),

    setPassword: (idOrUsername, password, actor) =>
      guarded(async () => {
        const user = await find(idOrUsername);
        const valid = parseInput(passwordSchema, password);
        policy.check(valid, { username: user.username, email: user.email });
        const hash = await hasher.hash(valid);
        const at = now();
        await store.transaction(async (trx) => {
          await trx.updateTable('users').set({ password_hash: hash, password_changed_at: at, updated_at: at }).where('id', '=', user.id).execute();
          await audit.record({ event: 'password.changed', actor, subject: user.id }, trx);
          await revoke(trx, user.id, 'password_changed', actor);
        });
        return find(user.id);
      }),

    hasPassword: (id) => guarded(() => userHasPassword(store.db, id)),

    grantRole: (idOrUsername, role, actor) =>
      guarded(async () => {
        const name = requireRole(role);
        const user = await find(idOrUsername);
        if (user.roles.includes(name)) return user;
        await store.transaction(async (trx) => {
          await trx.insertInto('user_roles').values({ user_id: user.id, role: name, granted_at: now() }).onConflict((oc) => oc.columns(['user_id', 'role']).doNothing()).execute();
          await trx.updateTable('users').set({ updated_at: now() }).where('id', '=', user.id).execute();
          await audit.record({ event: 'role.granted', actor, subject: user.id, data: { role: name } }, trx);
        });
        return find(user.id);
      }),

    revokeRole: (idOrUsername, role, actor) =>
      guarded(async () => {
        const user = await find(idOrUsername);
        if (!user.roles.includes(role)) return user;
        await store.transaction(async (trx) => {
          await trx.deleteFrom('user_roles').where('user_id', '=', user.id).where('role', '=', role).execute();
          await trx.updateTable('users').set({ updated_at: now() }).where('id', '=', user.id).execute();
          await audit.record({ event: 'role.revoked', actor, subject: user.id, data: { role } }, trx);
          // Issued tokens carry the roles of their time: end them so gateways stop honouring the old role.
          await revoke(trx, user.id, 'role_revoked', actor);
        });
        return find(user.id);
      }),
  };
}
