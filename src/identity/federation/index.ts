/**
 * Sign-in through external identity providers (`identityProviders:`): one relying party per
 * provider (openid-client), the accounts their identities sign in to, and the linked-identity
 * list of the account page. The HTTP side (buttons, callback, the create-or-link page) is the
 * OAuth component's: src/oauth/interactions/federation.ts.
 */
import type { Store } from '../../store/index.ts';
import type { AuditLog } from '../../events/audit.ts';
import type { Config, IdentityProviderConfig } from '../../config/index.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import type { UserService } from '../types.ts';
import { createRelyingParty, type RelyingParty } from './relying-party.ts';
import { createFederatedAccounts, type FederatedAccounts } from './accounts.ts';
import { createLinkedIdentities } from './linked-identities.ts';
import { clientSecretOf } from './client-secrets.ts';
import type { LinkedIdentities } from './types.ts';

export type { ExternalIdentity, PendingFlow, LinkedIdentity, LinkedIdentities } from './types.ts';
export type { RelyingParty } from './relying-party.ts';
export type { FederatedAccounts, Resolution, AccountRefusal } from './accounts.ts';
export { AccountRefused } from './accounts.ts';
export { FederationError, type FederationFailure } from './errors.ts';
export { secretVariable } from './client-secrets.ts';

export interface Federation {
  /** In configuration order (the order of the buttons). */
  providers: readonly IdentityProviderConfig[];
  relyingParty(providerId: string): RelyingParty | undefined;
  accounts: FederatedAccounts;
  linkedIdentities: LinkedIdentities;
  /** Starts every provider's discovery in the background; never throws. */
  warm(): void;
}

export interface FederationDeps {
  store: Store;
  audit: AuditLog;
  config: Config;
  clock: Clock;
  logger: Logger;
  users: UserService;
  env: NodeJS.ProcessEnv;
}

export function createFederation(deps: FederationDeps): Federation {
  const providers = deps.config.identityProviders;
  const source = (deps.config as { source?: unknown }).source;
  const parties = new Map(providers.map((provider) => [provider.id, createRelyingParty(provider, clientSecretOf(provider, deps.env, typeof source === 'string' ? source : undefined), deps.logger)]));
  return {
    providers,
    relyingParty: (id) => parties.get(id),
    accounts: createFederatedAccounts(deps),
    linkedIdentities: createLinkedIdentities({ store: deps.store, audit: deps.audit, providers }),
    warm() {
      for (const party of parties.values()) party.warm();
    },
  };
}
