/**
 * Local accounts for external identities, keyed by (provider, subject) and never by e-mail:
 * - a linked identity signs in to its account;
 * - an unknown one gets a new account, or is linked to an existing account only after that
 *   account signed in with its password (the caller checks it; `link` takes the proven user id);
 * - an e-mail that matches a local account links nothing: an `identity.link_refused` row says so.
 * Roles: the provider's role rules give roles when the account is created, and at every later
 * sign-in or link a role they give that the account lacks is granted (actor `provider:<id>`);
 * roles are never taken away here (an administrator does that).
 */
import type { Store } from '../../store/index.ts';
import { isUniqueViolation } from '../../store/index.ts';
import type { AuditLog } from '../../events/audit.ts';
import { epochSeconds, type Clock } from '../../shared/clock.ts';
import { GatehouseError, fail, isGatehouseError } from '../../shared/errors.ts';
import type { User, UserService } from '../types.ts';
import { selectUserId } from '../user-repository.ts';
import { findLink, insertLink, touchLogin, userIdByEmail } from './identity-repository.ts';
import { usernameBase, usernameCandidates } from './usernames.ts';
import type { ExternalIdentity } from './types.ts';

export type Resolution =
  | { kind: 'linked'; user: User }
  /** `emailInUse`: the provider's e-mail belongs to a local account (not linked: the page offers to sign in to it). */
  | { kind: 'unknown'; emailInUse: boolean };

/** Why an account could not be created or linked; the page says it in words. */
export type AccountRefusal = 'email_missing' | 'email_in_use' | 'email_invalid' | 'already_linked';

export class AccountRefused extends Error {
  readonly reason: AccountRefusal;
  constructor(reason: AccountRefusal) {
    super(reason);
    this.reason = reason;
  }
}

export interface FederatedAccounts {
  resolve(identity: ExternalIdentity, ip: string): Promise<Resolution>;
  create(identity: ExternalIdentity, ip: string): Promise<User>;
  /** Links the identity to `userId`, which has just proven itself (signed in with its password). */
  link(userId: string, identity: ExternalIdentity, ip: string): Promise<User>;
  /** The audit row of a sign-in through a provider. */
  recordLogin(user: User, identity: ExternalIdentity, ip: string): Promise<void>;
  /** The audit row of a refused sign-in through a provider (`reason` e.g. `federation_invalid_response`). */
  recordFailure(input: { provider: string; reason: string; check?: string; subject?: string; ip: string }): Promise<void>;
}

export interface FederatedAccountsDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  users: UserService;
}

const label = (identity: ExternalIdentity) => identity.username ?? identity.email ?? null;

export function createFederatedAccounts(deps: FederatedAccountsDeps): FederatedAccounts {
  const { store, audit, clock, users } = deps;
  const actorOf = (identity: ExternalIdentity) => `provider:${identity.provider}`;

  /** Grants the rule-given roles the account lacks; returns the account as it now is. */
  async function grantRoles(user: User, identity: ExternalIdentity): Promise<User> {
    let current = user;
    for (const role of identity.roles) if (!current.roles.includes(role)) current = await users.grantRole(current.id, role, actorOf(identity));
    return current;
  }

  async function freeUsername(identity: ExternalIdentity): Promise<string> {
    for (const candidate of usernameCandidates(usernameBase(identity.username, identity.email, identity.provider))) {
      if ((await selectUserId(store.db, candidate.toLowerCase())) === undefined) return candidate;
    }
    throw new Error('unreachable');
  }

  return {
    async resolve(identity, ip) {
      const link = await findLink(store.db, identity.provider, identity.subject);
      if (link) {
        const user = await users.findById(link.userId);
        if (user) {
          await touchLogin(store.db, identity.provider, identity.subject, epochSeconds(clock));
          return { kind: 'linked', user: user.status === 'active' ? await grantRoles(user, identity) : user };
        }
      }
      const owner = identity.email ? await userIdByEmail(store.db, identity.email) : undefined;
      if (owner !== undefined) {
        await audit.record({ event: 'identity.link_refused', actor: actorOf(identity), subject: owner, ip, reason: 'email_matches_local_account', data: { provider: identity.provider, externalSubject: identity.subject } });
      }
      return { kind: 'unknown', emailInUse: owner !== undefined };
    },

    async create(identity, ip) {
      if (await findLink(store.db, identity.provider, identity.subject)) throw new AccountRefused('already_linked');
      if (!identity.email) throw new AccountRefused('email_missing');
      if (await userIdByEmail(store.db, identity.email)) throw new AccountRefused('email_in_use');
      const at = epochSeconds(clock);
      try {
        return await users.create({ username: await freeUsername(identity), email: identity.email, roles: identity.roles }, actorOf(identity), {
          within: async (trx, userId) => {
            await insertLink(trx, { provider: identity.provider, subject: identity.subject, userId, label: label(identity), linkedAt: at });
            await audit.record({ event: 'identity.linked', actor: actorOf(identity), subject: userId, ip, reason: 'account_created', data: { provider: identity.provider, externalSubject: identity.subject } }, trx);
          },
        });
      } catch (error) {
        if (isGatehouseError(error) && error.code === 'validation_failed') throw new AccountRefused('email_invalid');
        // A parallel sign-in created the account or took the name/e-mail meanwhile.
        if (isGatehouseError(error) && error.code === 'conflict') throw new AccountRefused((await findLink(store.db, identity.provider, identity.subject)) ? 'already_linked' : 'email_in_use');
        throw error;
      }
    },

    async link(userId, identity, ip) {
      const user = await users.findById(userId);
      if (!user) throw fail.notFound('User');
      try {
        await store.transaction(async (trx) => {
          await insertLink(trx, { provider: identity.provider, subject: identity.subject, userId, label: label(identity), linkedAt: epochSeconds(clock) });
          await audit.record({ event: 'identity.linked', actor: `user:${userId}`, subject: userId, ip, reason: 'password_confirmed', data: { provider: identity.provider, externalSubject: identity.subject } }, trx);
        });
      } catch (error) {
        if (isUniqueViolation(error) || (error instanceof GatehouseError && error.code === 'conflict')) throw new AccountRefused('already_linked');
        throw error;
      }
      return grantRoles(user, identity);
    },

    async recordLogin(user, identity, ip) {
      await audit.record({ event: 'login.succeeded', actor: `user:${user.id}`, subject: user.id, ip, data: { provider: identity.provider } });
    },

    async recordFailure({ provider, reason, check, subject, ip }) {
      await audit.record({ event: 'login.failed', actor: `ip:${ip}`, subject: subject ?? null, ip, reason, data: { provider, ...(check ? { check } : {}) } });
    },
  };
}
