/**
 * RFC 8693 token exchange of a personal API token (`gth_…`) for a short-lived JWT access token —
 * what the gateway does once per token and caches (shared contract 2, docs/api-tokens.md).
 *
 *   POST /oauth2/token   (client authentication as usual; the client needs scope tokens:exchange)
 *   grant_type=urn:ietf:params:oauth:grant-type:token-exchange
 *   subject_token=gth_…  subject_token_type=urn:gatehouse:params:oauth:token-type:api-token
 *   [resource=<audience>] [requested_token_type=urn:ietf:params:oauth:token-type:access_token]
 *
 * The access token is oidc-provider's own AccessToken model with a resource server, exactly as the
 * refresh-token grant builds one, so format, signing, `roles`/`preferred_username`
 * (extraTokenClaims) and the issued-token record (the jwt customizer) are the same as for every
 * other token; the customizer adds `scope_bound` and `api_token_id` from the request state.
 */
import { decodeJwt } from 'jose';
import type Provider from 'oidc-provider';
import { errors, type Configuration, type KoaContextWithOIDC, type TokenEndpointGrantContext } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { eventFromClaims } from '../shared/security-events.ts';
import { scopeIncludes } from '../shared/scope.ts';
import type { ApiTokenService } from '../tokens/index.ts';
import { EXCHANGE_SCOPE } from './resources.ts';
import { requestState } from './request-state.ts';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const API_TOKEN_TYPE = 'urn:gatehouse:params:oauth:token-type:api-token';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

type ResourceIndicators = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

export interface TokenExchangeDeps {
  config: Pick<Config, 'apiTokens'>;
  store: Store;
  audit: AuditLog;
  apiTokens: Pick<ApiTokenService, 'lookupForExchange' | 'markUsed'>;
  /** The provider's own resource-indicator functions (read from its configuration). */
  resourceIndicators: Pick<ResourceIndicators, 'defaultResource' | 'getResourceServerInfo'>;
}

/** Claims the jwt customizer adds to an exchanged token (shared contract 1 and 2). */
export function exchangeClaims(ctx: KoaContextWithOIDC | undefined): { scope_bound: true; api_token_id: string } | undefined {
  const exchange = ctx ? requestState(ctx).exchange : undefined;
  return exchange ? { scope_bound: true, api_token_id: exchange.apiTokenId } : undefined;
}

const epochNow = () => Math.floor(Date.now() / 1000);

/**
 * The latest subject-wide `issued_before` cut-off published for `subject` in this or the last
 * second (role removed, user disabled and enabled again …), or 0. Consumers deny tokens with
 * `iat <= issued_before`, and `iat` has one-second resolution.
 */
async function recentCutoff(store: Store, subject: string, now: number): Promise<number> {
  const rows = await store.db
    .selectFrom('security_events')
    .select('set_jwt')
    .where('event_type', '=', 'tokens.revoked')
    .where('subject', '=', subject)
    .where('created_at', '>=', now - 1)
    .execute();
  let cutoff = 0;
  for (const row of rows) {
    const event = eventFromClaims(decodeJwt(row.set_jwt));
    // A session-scoped cut-off never matches an exchanged token (it carries no sid).
    if (event?.type === 'tokens.revoked' && event.sessionId === undefined) cutoff = Math.max(cutoff, event.issuedBefore);
  }
  return cutoff;
}

/**
 * A token issued in the same second as a subject-wide revocation would be denied by every
 * consumer (`iat <= issued_before`). Right after a role change the gateway re-exchanges at once,
 * so wait for the next second instead of handing out a token that is dead on arrival.
 */
async function waitPastCutoff(store: Store, subject: string): Promise<void> {
  const cutoff = await recentCutoff(store, subject, epochNow());
  if (cutoff < epochNow()) return;
  const wait = (cutoff + 1) * 1000 - Date.now() + 5;
  await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(wait, 0), 2000)));
}

export function registerTokenExchange(provider: Provider, deps: TokenExchangeDeps): void {
  const { apiTokens, audit, store, config } = deps;

  async function exchange(ctx: TokenEndpointGrantContext): Promise<void> {
    const { client, params } = ctx.oidc;
    // The grant type is on a client only with the scope (./clients.ts); checked again here.
    if (!scopeIncludes(client.scope, EXCHANGE_SCOPE)) throw new errors.UnauthorizedClient(`the client is not registered with scope ${EXCHANGE_SCOPE}`);
    const subjectToken = params.subject_token;
    if (typeof subjectToken !== 'string' || subjectToken === '') throw new errors.InvalidRequest('missing required parameter subject_token');
    if (params.subject_token_type !== API_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${API_TOKEN_TYPE}`);
    if (params.requested_token_type !== undefined && params.requested_token_type !== ACCESS_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${ACCESS_TOKEN_TYPE}`);
    if (Array.isArray(params.resource)) throw new errors.InvalidTarget('only one resource indicator is supported for this grant type');

    const resource = typeof params.resource === 'string' ? params.resource : await deps.resourceIndicators.defaultResource!(ctx, client);
    const info = await deps.resourceIndicators.getResourceServerInfo!(ctx, String(resource), client);

    const found = await apiTokens.lookupForExchange(subjectToken, { ip: ctx.ip, clientId: client.clientId });
    // One answer for every refusal (the audit row says which): nothing to learn by probing.
    if (!found.ok) throw new errors.InvalidGrant('the API token is unknown, malformed, expired or revoked, or its owner is disabled');
    await waitPastCutoff(store, found.owner.id);

    const expiresIn = Math.min(config.apiTokens.exchangedTokenTtl, found.expiresAt - epochNow());
    if (expiresIn < 1) throw new errors.InvalidGrant('the API token has expired');
    // No grantId: the token stands on the API token, not on a grant the user consented to (the
    // types insist on one; oidc-provider does not).
    const at = new provider.AccessToken({ accountId: found.owner.id, client, expiresIn, gty: 'token_exchange', scope: found.scopes.join(' ') } as unknown as ConstructorParameters<Provider['AccessToken']>[0]);
    at.resourceServer = new provider.ResourceServer(String(resource), info);
    requestState(ctx).exchange = { apiTokenId: found.tokenId };
    ctx.oidc.entity('AccessToken', at);
    const value = await at.save(); // the jwt customizer records the jti with the API token id

    // A revocation that committed while we signed wins: the token is never handed out.
    if (!(await apiTokens.markUsed(found.tokenId, ctx.ip))) throw new errors.InvalidGrant('the API token was revoked');
    await audit.record({ event: 'api_token.exchanged', actor: `client:${client.clientId}`, subject: found.owner.id, clientId: client.clientId, ip: ctx.ip, data: { apiTokenId: found.tokenId, jti: at.jti } });

    ctx.body = {
      access_token: value,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: 'Bearer',
      expires_in: at.expiration,
      scope: at.scope,
    };
  }

  provider.registerGrantType(TOKEN_EXCHANGE_GRANT, exchange, ['subject_token', 'subject_token_type', 'requested_token_type', 'resource']);
}
