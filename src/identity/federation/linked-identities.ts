/**
 * Contract 3 (account page): a user's linked identities, listed and removable. Removing the only
 * identity of an account that has no password is refused (`conflict`): it would leave no way to
 * sign in. Set a password first (or link another provider).
 */
import type { Store } from '../../store/index.ts';
import type { AuditLog } from '../../events/audit.ts';
import type { IdentityProviderConfig } from '../../config/index.ts';
import { fail } from '../../shared/errors.ts';
import { deleteLink, hasPassword, listLinks } from './identity-repository.ts';
import type { LinkedIdentities } from './types.ts';

export function createLinkedIdentities(deps: { store: Store; audit: AuditLog; providers: readonly IdentityProviderConfig[] }): LinkedIdentities {
  const { store, audit } = deps;
  const names = new Map(deps.providers.map((provider) => [provider.id, provider.name]));
  return {
    async list(userId) {
      return (await listLinks(store.db, userId)).map((link) => ({
        provider: link.provider,
        // A provider removed from the config keeps its links (and its id as name) until unlinked.
        providerName: names.get(link.provider) ?? link.provider,
        subject: link.subject,
        ...(link.label !== null ? { label: link.label } : {}),
        linkedAt: link.linkedAt,
      }));
    },
    async unlink(userId, provider, subject, actor) {
      return store.transaction(async (trx) => {
        const links = await listLinks(trx, userId);
        if (!links.some((link) => link.provider === provider && link.subject === subject)) return false;
        if (links.length === 1 && !(await hasPassword(trx, userId))) {
          throw fail.conflict('This is the only way this account can sign in: set a password on the account page (/account) or link another provider first');
        }
        await deleteLink(trx, userId, provider, subject);
        await audit.record({ event: 'identity.unlinked', actor, subject: userId, data: { provider, externalSubject: subject } }, trx);
        return true;
      });
    },
  };
}
