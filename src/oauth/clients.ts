/**
 * Registered OAuth clients: the `clients` table, the service behind `gatehouse client …` and the
 * admin API, and the mapping to oidc-provider client metadata.
 *
 * Secrets are 256 random bits, returned once, stored as a SHA-256 hex digest and compared in
 * constant time (see ./provider.ts, which plugs the comparison into oidc-provider). A fast digest
 * is right here: the secret is random, not a password, so there is nothing to brute-force.
 */
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Clock } from '../shared/clock.ts';
import { fail } from '../shared/errors.ts';
import { randomToken, sha256Hex } from '../shared/random.ts';
import type { ClientService, CreateClientInput } from './types.ts';
import type { Revoker } from './revocation.ts';
import { usesSecret } from './client-auth.ts';
import { rotateClientSecret, updateClient } from './client-changes.ts';
import { registerDynamicClient } from './dynamic-registration.ts';
import { clientFromRow, findClientRow, inputSchema, insertClient, methodOf, parseClientInput } from './client-records.ts';

export { FIRST_PARTY_PROPERTY, ROLES_PROPERTY, ACCESS_TOKEN_TTL_PROPERTY, isAllowedRedirectUri, redirectUri, inputSchema, clientFromRow, clientMetadata, findClientRow, type ClientInputSchema, type ValidClientInput } from './client-records.ts';

export function createClientService(deps: { store: Store; audit: AuditLog; config: Config; clock: Clock; revoker: Pick<Revoker, 'revokeClient'> }): ClientService {
  const { store, audit, config, clock, revoker } = deps;
  const schema = inputSchema(config);

  return {
    async create(raw: CreateClientInput, actor: string) {
      const input = await parseClientInput(schema, raw);
      const method = methodOf(input);
      const secret = usesSecret(method) ? randomToken(32) : undefined;
      const row = await insertClient({ store, audit, clock, config }, input, secret === undefined ? null : sha256Hex(secret), { event: 'client.created', actor });
      return secret === undefined ? { client: clientFromRow(row) } : { client: clientFromRow(row), secret };
    },

    update: (clientId, input, actor) => updateClient({ store, audit, clock, config, schema, revoker }, clientId, input, actor),
    rotateSecret: (clientId, actor, options) => rotateClientSecret({ store, audit, clock, config }, clientId, actor, options),
    registerDynamic: (metadata) => registerDynamicClient({ store, audit, clock, config, schema }, metadata),

    async list() {
      const rows = await store.db.selectFrom('clients').selectAll().orderBy('created_at', 'asc').orderBy('client_id', 'asc').execute();
      return rows.map(clientFromRow);
    },

    async find(clientId) {
      const row = await findClientRow(store, clientId);
      if (!row) throw fail.notFound(`client ${clientId}`);
      return clientFromRow(row);
    },

    async remove(clientId, actor) {
      // The client, every grant it holds and its outstanding access tokens go together.
      await store.transaction(async (trx) => {
        const result = await trx.deleteFrom('clients').where('client_id', '=', clientId).executeTakeFirst();
        if (Number(result.numDeletedRows) === 0) throw fail.notFound(`client ${clientId}`);
        const revoked = await revoker.revokeClient(clientId, 'client_removed', trx);
        await audit.record({ event: 'client.removed', actor, subject: clientId, clientId, reason: 'client_removed', data: revoked }, trx);
      });
    },
  };
}

