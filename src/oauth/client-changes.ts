/**
 * Changing a registered client: `client update` and `client rotate-secret` (the CLI and the admin
 * API call these through the ClientService).
 *
 * Nothing is cached: oidc-provider reads the client from our table on every request (./adapter.ts
 * and its per-metadata-hash cache), so a removed redirect URI is refused at the next authorization
 * request. Existing grants are another matter: when an update takes a scope or a grant type away,
 * the client's grants and outstanding tokens are revoked with it (`client_narrowed`), so nothing
 * issued under the wider registration keeps working.
 */
import type { Config } from '../config/index.ts';
import type { ClientRow, Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { GatehouseError, fail } from '../shared/errors.ts';
import { parseScope } from '../shared/scope.ts';
import { randomToken, sha256Hex } from '../shared/random.ts';
import type { Client, UpdateClientInput } from './types.ts';
import type { Revoker } from './revocation.ts';
import { authMethodOf, usesSecret } from './client-auth.ts';
import { clientFromRow, findClientRow, parseClientInput, rowColumns, type ClientInputSchema } from './client-records.ts';

/** The longest overlap of a rotation (as clients.secretRotationOverlap allows). */
export const MAX_OVERLAP = 30 * 86400;

const UPDATABLE = ['name', 'redirectUris', 'postLogoutRedirectUris', 'grantTypes', 'scope', 'roles', 'tokenEndpointAuthMethod', 'jwks', 'jwksUri'] as const;

export interface ChangeDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  config: Config;
  schema: ClientInputSchema;
  revoker: Pick<Revoker, 'revokeClient'>;
}

function invalid(path: string, message: string): GatehouseError {
  return new GatehouseError('validation_failed', `The client change is invalid: ${path}: ${message}`, { extensions: { errors: [{ path, message }] } });
}

/** The client as `create` input, so the merged result is validated by the same schema. */
function asInput(client: Client): Record<string, unknown> {
  return {
    clientId: client.clientId,
    name: client.name,
    firstParty: client.firstParty,
    public: client.public,
    redirectUris: client.redirectUris,
    postLogoutRedirectUris: client.postLogoutRedirectUris,
    grantTypes: client.grantTypes,
    scope: client.scope,
    roles: client.roles,
    ...(client.accessTokenTtl !== null ? { accessTokenTtl: client.accessTokenTtl } : {}),
    tokenEndpointAuthMethod: client.tokenEndpointAuthMethod,
    ...(client.jwks !== undefined ? { jwks: client.jwks } : {}),
    ...(client.jwksUri !== undefined ? { jwksUri: client.jwksUri } : {}),
  };
}

/** What a change of authentication method may be: within the secret methods, or new keys for private_key_jwt. */
function methodChangeProblem(from: Client['tokenEndpointAuthMethod'], to: Client['tokenEndpointAuthMethod']): string | undefined {
  if (from === to || (usesSecret(from) && usesSecret(to))) return undefined;
  return `cannot change from ${from} to ${to} (only between client_secret_basic and client_secret_post): register a new client`;
}

export async function updateClient(deps: ChangeDeps, clientId: string, raw: UpdateClientInput, actor: string): Promise<Client> {
  const unknown = Object.keys(raw).filter((key) => !(UPDATABLE as readonly string[]).includes(key));
  if (unknown.length > 0) throw invalid(unknown[0]!, `cannot be changed (changeable: ${UPDATABLE.join(', ')})`);
  const row = await findClientRow(deps.store, clientId);
  if (!row) throw fail.notFound(`client ${clientId}`);
  const current = clientFromRow(row);

  const merged: Record<string, unknown> = asInput(current);
  for (const key of UPDATABLE) if (raw[key] !== undefined) merged[key] = raw[key];
  // New keys replace the old ones, whichever form they take.
  if (raw.jwks !== undefined) delete merged.jwksUri;
  if (raw.jwksUri !== undefined) delete merged.jwks;
  const problem = methodChangeProblem(current.tokenEndpointAuthMethod, merged.tokenEndpointAuthMethod as Client['tokenEndpointAuthMethod']);
  if (problem !== undefined) throw invalid('tokenEndpointAuthMethod', problem);
  const input = await parseClientInput(deps.schema, merged);

  const columns = rowColumns(input, deps.config);
  const changed = (Object.keys(columns) as Array<keyof typeof columns>).filter((column) => String(columns[column]) !== String(row[column]));
  if (changed.length === 0) return current;
  const narrowed = removedAny(parseScope(row.scope), parseScope(columns.scope)) || removedAny(current.grantTypes, input.grantTypes);
  const now = epochSeconds(deps.clock);

  await deps.store.transaction(async (trx) => {
    await trx.updateTable('clients').set({ ...columns, updated_at: now }).where('client_id', '=', clientId).execute();
    const revoked = narrowed ? await deps.revoker.revokeClient(clientId, 'client_narrowed', trx) : undefined;
    await deps.audit.record({ event: 'client.updated', actor, subject: clientId, clientId, ...(narrowed ? { reason: 'client_narrowed' } : {}), data: { changed, ...(revoked ? { revoked } : {}) } }, trx);
  });
  return clientFromRow({ ...row, ...columns, updated_at: now });
}

function removedAny(before: readonly string[], after: readonly string[]): boolean {
  const kept = new Set(after);
  return before.some((value) => !kept.has(value));
}

/**
 * A new secret; the previous one stays valid for `overlap` seconds (default
 * clients.secretRotationOverlap), so the client's deployments can switch without downtime. A
 * second rotation within the overlap ends the first one's old secret at once: only the secret
 * just replaced is kept.
 */
export async function rotateClientSecret(
  deps: Omit<ChangeDeps, 'schema' | 'revoker'>,
  clientId: string,
  actor: string,
  options: { overlap?: number } = {},
): Promise<{ client: Client; secret: string }> {
  const overlap = options.overlap ?? deps.config.clients.secretRotationOverlap;
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_OVERLAP) {
    throw invalid('overlap', `must be whole seconds from 0 to ${MAX_OVERLAP} (30 days), received ${String(overlap)}`);
  }
  const secret = randomToken(32);
  const now = epochSeconds(deps.clock);
  const updated = await deps.store.transaction(async (trx) => {
    const row = await trx.selectFrom('clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();
    if (!row) throw fail.notFound(`client ${clientId}`);
    const method = authMethodOf(row);
    if (!usesSecret(method) || row.secret_digest === null) throw fail.conflict(`client ${clientId} authenticates with ${method}: it has no secret to rotate`);
    const changes: Partial<ClientRow> = {
      secret_digest: sha256Hex(secret),
      previous_secret_digest: overlap > 0 ? row.secret_digest : null,
      previous_secret_expires_at: overlap > 0 ? now + overlap : null,
      // Pinned, so the client keeps its method even if the derivation for old rows ever changes.
      token_endpoint_auth_method: method,
      updated_at: now,
    };
    await trx.updateTable('clients').set(changes).where('client_id', '=', clientId).execute();
    await deps.audit.record({ event: 'client.secret_rotated', actor, subject: clientId, clientId, data: { overlap, ...(overlap > 0 ? { previousSecretExpiresAt: now + overlap } : {}) } }, trx);
    return { ...row, ...changes } as ClientRow;
  });
  return { client: clientFromRow(updated), secret };
}
