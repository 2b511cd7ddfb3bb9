/**
 * Dynamic client registration (RFC 7591), off by default (`oauth.dynamicRegistration`).
 *
 * oidc-provider's `features.registration` runs the endpoint: it parses the request, checks the
 * initial access token, validates the metadata against the provider's rules and answers RFC 7591
 * (201 with the metadata and the secret, or `invalid_redirect_uri` / `invalid_client_metadata`).
 * It stores the client through the Client adapter, and ./adapter.ts hands that to
 * `registerDynamicClient` here: our `clients` table stays the one store of clients, and the
 * metadata passes the same schema as `client add` (redirect URI policy, scopes, grant
 * combinations) plus the rules of self-registered clients — third-party, no roles, no service
 * grants, only the allowed scopes. A refusal here is thrown as oidc-provider's error, so the
 * answer is the RFC 7591 one and nothing is stored.
 *
 * No registration access token is issued (RFC 7592 management is not offered): a registered
 * client is changed or removed by an administrator (`client update`, `client remove`).
 */
import { resolve } from 'node:path';
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from '../shared/logger.ts';
import type { Config } from '../config/index.ts';
import { readSecretFile } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Clock } from '../shared/clock.ts';
import { GatehouseError } from '../shared/errors.ts';
import { parseScope } from '../shared/scope.ts';
import { randomToken, sha256Hex } from '../shared/random.ts';
import { FIRST_PARTY_PROPERTY, ROLES_PROPERTY, ACCESS_TOKEN_TTL_PROPERTY, insertClient, methodOf, parseClientInput, type ClientInputSchema } from './client-records.ts';
import { PREVIOUS_SECRET_PROPERTY, usesSecret } from './client-auth.ts';
import { defaultClientScope } from './resources.ts';

/** Grant types a client may register itself for: signing users in, never service credentials. */
const SELF_REGISTERED_GRANTS = new Set(['authorization_code', 'refresh_token']);

/** Our metadata extensions: an administrator's decision, never the registrant's. */
const RESERVED_PROPERTIES = [FIRST_PARTY_PROPERTY, ROLES_PROPERTY, ACCESS_TOKEN_TTL_PROPERTY, PREVIOUS_SECRET_PROPERTY];

/** Scopes a self-registered client may hold. */
export function dynamicRegistrationScopes(config: Config): string[] {
  return config.oauth.dynamicRegistration.scopes ?? parseScope(defaultClientScope(config));
}

/** The initial access token registrations must present, or undefined (open registration). Read once at start. */
export function loadInitialAccessToken(config: Config): string | undefined {
  const file = config.oauth.dynamicRegistration.initialAccessTokenFile;
  if (!config.oauth.dynamicRegistration.enabled || file === undefined) return undefined;
  return readSecretFile(resolve(config.dataDir, file));
}

/** oidc-provider's `features.registration` for our configuration. */
export function registrationFeature(config: Config, initialAccessToken: string | undefined): NonNullable<Configuration['features']>['registration'] {
  return {
    enabled: config.oauth.dynamicRegistration.enabled,
    initialAccessToken: initialAccessToken ?? false,
    issueRegistrationAccessToken: false,
    secretFactory: () => randomToken(32),
  };
}

function refuse(description: string): never {
  // InvalidClientMetadata answers `invalid_redirect_uri` when the description starts with redirect_uris.
  throw new errors.InvalidClientMetadata(description);
}

const FIELD_NAMES: Record<string, string> = {
  redirectUris: 'redirect_uris',
  postLogoutRedirectUris: 'post_logout_redirect_uris',
  grantTypes: 'grant_types',
  tokenEndpointAuthMethod: 'token_endpoint_auth_method',
  jwksUri: 'jwks_uri',
  name: 'client_name',
};

/** Stores what oidc-provider validated, after our own rules; throws RFC 7591 errors. */
export async function registerDynamicClient(
  deps: { store: Store; audit: AuditLog; clock: Clock; config: Config; schema: ClientInputSchema },
  metadata: Record<string, unknown>,
): Promise<void> {
  const reserved = RESERVED_PROPERTIES.find((property) => metadata[property] !== undefined);
  if (reserved !== undefined) refuse(`${reserved} cannot be registered`);
  const grantTypes = Array.isArray(metadata.grant_types) ? (metadata.grant_types as string[]) : [];
  const notAllowed = grantTypes.find((grant) => !SELF_REGISTERED_GRANTS.has(grant));
  if (notAllowed !== undefined) refuse(`grant_types: ${notAllowed} cannot be registered dynamically (only authorization_code and refresh_token)`);
  const allowed = dynamicRegistrationScopes(deps.config);
  const scope = typeof metadata.scope === 'string' ? metadata.scope : allowed.join(' ');
  const outside = parseScope(scope).filter((s) => !allowed.includes(s));
  if (outside.length > 0) refuse(`scope: ${outside.join(' ')} may not be registered dynamically`);

  const method = String(metadata.token_endpoint_auth_method);
  const raw = {
    clientId: metadata.client_id,
    name: typeof metadata.client_name === 'string' ? metadata.client_name : String(metadata.client_id),
    firstParty: false,
    public: method === 'none',
    redirectUris: metadata.redirect_uris ?? [],
    postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [],
    grantTypes,
    scope,
    roles: [],
    tokenEndpointAuthMethod: method,
    ...(metadata.jwks !== undefined ? { jwks: metadata.jwks } : {}),
    ...(metadata.jwks_uri !== undefined ? { jwksUri: metadata.jwks_uri } : {}),
  };
  let input;
  try {
    input = await parseClientInput(deps.schema, raw);
  } catch (error) {
    if (!(error instanceof GatehouseError) || error.code !== 'validation_failed') throw error;
    const first = (error.extensions?.errors as Array<{ path: string; message: string }> | undefined)?.[0];
    const field = first?.path.split('.')[0] ?? '';
    refuse(first ? `${FIELD_NAMES[field] ?? field}: ${first.message}` : error.description);
  }
  const secret = metadata.client_secret;
  const digest = usesSecret(methodOf(input)) && typeof secret === 'string' ? sha256Hex(secret) : null;
  if (usesSecret(methodOf(input)) && digest === null) refuse('client_secret missing');
  try {
    // The registration request is still running: its address is in oidc-provider's request context.
    await insertClient(deps, input, digest, { event: 'client.registered', actor: `client:${String(metadata.client_id)}`, ip: Provider.ctx?.ip });
  } catch (error) {
    if (error instanceof GatehouseError && error.code === 'conflict') refuse('client_id is taken');
    throw error;
  }
}

/** Audits refused registrations (bad metadata, a wrong initial access token); the answer is oidc-provider's. */
export function auditRegistrationRefusals(provider: Provider, audit: AuditLog, logger: Logger): void {
  provider.on('registration_create.error', (ctx: KoaContextWithOIDC, error: { error?: unknown; error_description?: unknown }) => {
    const reason = typeof error.error === 'string' ? error.error : 'server_error';
    const description = typeof error.error_description === 'string' ? error.error_description.slice(0, 200) : undefined;
    audit
      .record({ event: 'client.registration_refused', actor: `ip:${ctx.ip}`, ip: ctx.ip, reason, ...(description ? { data: { description } } : {}) })
      .catch((cause: unknown) => logger.warn({ err: cause }, 'could not audit a refused client registration'));
  });
}
