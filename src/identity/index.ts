/**
 * Identity: users, passwords (argon2id + policy), login with throttling.
 * Other components import only this file.
 */
import { availableParallelism } from 'node:os';
import type { Store, StoreTransaction } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Config } from '../config/index.ts';
import type { Clock } from '../shared/clock.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { createPasswordHasher, type PasswordHasher } from './passwords.ts';
import { createPasswordPolicy, type PasswordPolicy } from './password-policy.ts';
import { createSqlThrottleStore, type ThrottleStore } from './throttle.ts';
import { createAuthenticator } from './authenticator.ts';
import { createUserService } from './users.ts';
import type { Authenticator, UserService } from './types.ts';

export type { User, UserService, LoginResult, LoginFailureReason, Authenticator } from './types.ts';
export type { PasswordHasher, Argon2Params } from './passwords.ts';
export type { PasswordPolicy, PasswordPolicyOptions } from './password-policy.ts';
export type { ThrottleStore, ThrottleState, ThrottleSettings } from './throttle.ts';
export { createPasswordHasher, formatPhc, parsePhc } from './passwords.ts';
export { createPasswordPolicy } from './password-policy.ts';
export { createSqlThrottleStore, waitFor, accountKey, ipKey } from './throttle.ts';
export { usernameSchema, emailSchema, roleNameSchema, passwordSchema, createUserSchema, type CreateUserInput } from './schemas.ts';
export { generatePassword } from './generate.ts';

export interface IdentityDeps {
  store: Store;
  audit: AuditLog;
  config: Config;
  clock: Clock;
  logger: Logger;
  /**
   * Revokes every grant and token of the user inside the caller's transaction `trx`, so a disable
   * or password change and the revocation commit together (the OAuth component's `createRevoker`).
   */
  revokeUser: (userId: string, reason: string, options: { trx: StoreTransaction; actor: string }) => Promise<void>;
  /** Where login failure counters live; default: the `login_throttle` table. */
  throttle?: ThrottleStore;
  /** Counts argon2id runs and refusals (gatehouse_password_hashes_total, …_refused_total). */
  metrics?: Metrics;
}

/**
 * Hashes at once when not configured: every core this process may use (availableParallelism
 * follows the CPU affinity, so a container or `taskset` limit counts) but one, which the event
 * loop keeps. At least 1. On one or two cores a login flood then takes at most one core's worth
 * of hashing, and that at a lower priority than requests (passwords.hashNice).
 */
export function defaultHashConcurrency(cores: number): number {
  return Math.max(1, cores - 1);
}

export interface Identity {
  users: UserService;
  authenticator: Authenticator;
  passwords: PasswordHasher;
  passwordPolicy: PasswordPolicy;
}

export function createIdentity(deps: IdentityDeps): Identity {
  const { config } = deps;
  const limits = { maxConcurrent: config.passwords.maxConcurrentHashes ?? defaultHashConcurrency(availableParallelism()), queue: config.passwords.hashQueue };
  const passwords = createPasswordHasher(config.passwords.argon2, { limits, niceIncrement: config.passwords.hashNice, metrics: deps.metrics });
  const passwordPolicy = createPasswordPolicy(config.passwords);
  const throttle = deps.throttle ?? createSqlThrottleStore(deps.store.db);
  return {
    passwords,
    passwordPolicy,
    users: createUserService({ ...deps, hasher: passwords, policy: passwordPolicy }),
    authenticator: createAuthenticator({ ...deps, hasher: passwords, throttle, settings: config.throttle }),
  };
}

// External identity providers (`identityProviders:`): relying parties, federated accounts, linked identities.
export { createFederation, AccountRefused, FederationError, secretVariable, type Federation, type FederationDeps, type ExternalIdentity, type LinkedIdentity, type LinkedIdentities, type FederatedAccounts, type Resolution } from './federation/index.ts';
