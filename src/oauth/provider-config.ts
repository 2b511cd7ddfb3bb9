/**
 * oidc-provider configuration: every option Gatehouse relies on is set here explicitly, including
 * the ones where the library's defaults fall short of what we require (see STACK-NOTES):
 * PKCE S256 for every client, refresh-token rotation for every client, code-only response types,
 * exact redirect URIs, JWT access tokens (RFC 9068) per resource, explicit TTLs, our own HTML.
 */
import type { Configuration, KoaContextWithOIDC, Account, AccessToken, ClientCredentials, UnknownObject } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { Config } from '../config/index.ts';
import { isStoreUnavailable } from '../store/index.ts';
import { scopeIncludes } from '../shared/scope.ts';
import { ACCESS_TOKEN_TTL_PROPERTY, FIRST_PARTY_PROPERTY, ROLES_PROPERTY } from './clients.ts';
import { OIDC_SCOPES, knownScopes, mayIntrospectAnyToken, resourceServers, scopeDescriptions } from './resources.ts';
import type { AccountUser, UserLookup } from './types.ts';
import type { Revoker } from './revocation.ts';
import type { OidcAdapter } from './adapter.ts';
import { PAGE_HEADERS, originsOf } from './views/layout.ts';
import { errorPage, logoutPage, signedOutPage } from './views/pages.ts';
import { requestState } from './request-state.ts';
import { createCookieSigner } from './cookie-signer.ts';
import { exchangeClaims } from './token-exchange.ts';
import { PREVIOUS_SECRET_PROPERTY } from './client-auth.ts';
import { registrationFeature } from './dynamic-registration.ts';
import { CODE_VERIFICATION_ROUTE, DEVICE_AUTHORIZATION_ROUTE, deviceFlowFeature } from './device/feature.ts';

export const ROUTES = {
  authorization: '/oauth2/authorize',
  token: '/oauth2/token',
  userinfo: '/oauth2/userinfo',
  introspection: '/oauth2/introspect',
  revocation: '/oauth2/revoke',
  end_session: '/oauth2/logout',
  jwks: '/.well-known/jwks.json',
  registration: '/oauth2/register',
  device_authorization: DEVICE_AUTHORIZATION_ROUTE,
  code_verification: CODE_VERIFICATION_ROUTE,
} as const;

/** Retry-After of a 503 from a provider endpoint (store outage), JSON or HTML alike. */
export const OAUTH_RETRY_AFTER_SECONDS = 1;

export const INTERACTION_PREFIX = '/interaction';
/** The sign-in form's post: where passwords are guessed (the composition root limits its refusals). */
export const SIGN_IN_ROUTE = `${INTERACTION_PREFIX}/:uid/login`;
/** The consent form's post and the Cancel/Deny post: refused ones (no interaction, a foreign CSRF token) count as refusals too. */
export const CONSENT_ROUTE = `${INTERACTION_PREFIX}/:uid/consent`;
export const ABORT_ROUTE = `${INTERACTION_PREFIX}/:uid/abort`;
/** How long a login/consent interaction may take. */
export const INTERACTION_TTL = 15 * 60;

export interface ProviderConfigDeps {
  config: Config;
  users: UserLookup;
  revoker: Revoker;
  adapter: (model: string) => OidcAdapter;
  cookieKeys: string[];
  jwks: { keys: Record<string, unknown>[] };
  /** A third-party client's remembered grant for the user (./connected-apps.ts). */
  rememberedGrant(userId: string, clientId: string): Promise<string | undefined>;
  /** Dynamic registration's initial access token (./dynamic-registration.ts); undefined: none required. */
  initialAccessToken?: string | undefined;
}

/**
 * Whether a client_credentials token may act as an administrator: the `admin` scope (the admin
 * API), or a role named `admin` or granting every permission (`*`).
 */
export function carriesAdminRights(scope: string | undefined, roles: readonly string[], config: Pick<Config, 'roles'>): boolean {
  if (scopeIncludes(scope, 'admin')) return true;
  return roles.some((role) => role === 'admin' || (config.roles[role] ?? []).includes('*'));
}

interface GatehouseAccount extends Account {
  user: AccountUser;
}

export function providerConfiguration(deps: ProviderConfigDeps): Configuration {
  const { config, users, revoker } = deps;
  const servers = resourceServers(config);
  const defaultAudience = servers[0]!.audience;
  const alg = config.tokens.algorithm;
  const oidcScopes = new Set<string>(OIDC_SCOPES);
  const secureCookies = new URL(config.issuer).protocol === 'https:';
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: secureCookies, signed: true };

  /** The client's own access-token lifetime (bounded by tokens.maxAccessTokenTtl, which may have been lowered since), else the default. */
  function accessTokenTtlOf(client: unknown): number {
    const own = (client as Record<string, unknown> | undefined)?.[ACCESS_TOKEN_TTL_PROPERTY];
    return typeof own === 'number' && own > 0 ? Math.min(own, config.tokens.maxAccessTokenTtl) : config.tokens.accessTokenTtl;
  }

  async function findAccount(_ctx: KoaContextWithOIDC, sub: string): Promise<GatehouseAccount | undefined> {
    const user = await users.findById(sub);
    // A disabled user has no account as far as the protocol is concerned: refresh, userinfo and
    // code exchange all fail (invalid_grant / invalid_token).
    if (!user || user.status !== 'active') return undefined;
    return {
      accountId: user.id,
      user,
      claims: async () => ({
        sub: user.id,
        preferred_username: user.username,
        email: user.email,
        email_verified: false,
        roles: user.roles,
      }),
    };
  }

  /**
   * Whether the token goes to one of our own apps. A third-party app's user tokens are scope-bound
   * (`scope_bound: true`): they may do only what their scopes cover of the user's permissions.
   * Unknown: not first-party (fail closed).
   */
  async function firstPartyClient(ctx: KoaContextWithOIDC | undefined, clientId: string | undefined): Promise<boolean> {
    const current = ctx?.oidc?.client;
    const client = current && current.clientId === clientId ? current : clientId && ctx ? await ctx.oidc.provider.Client.find(clientId) : undefined;
    return (client as unknown as Record<string, unknown> | undefined)?.[FIRST_PARTY_PROPERTY] === true;
  }

  async function extraTokenClaims(ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials): Promise<UnknownObject | undefined> {
    if ('accountId' in token && token.accountId) {
      const account = ctx?.oidc?.entities.Account as GatehouseAccount | undefined;
      const user = account?.accountId === token.accountId ? account.user : await users.findById(token.accountId);
      if (!user || user.status !== 'active') throw new errors.InvalidGrant('the user account is disabled or gone');
      // preferred_username lets a service name the caller without a userinfo round trip (RFC 9068 §2.2.1 allows identity claims).
      return { roles: user.roles, preferred_username: user.username, ...(token.sid ? { sid: token.sid } : {}), ...(await firstPartyClient(ctx, token.clientId) ? {} : { scope_bound: true }) };
    }
    const roles = (ctx?.oidc?.client as unknown as Record<string, unknown> | undefined)?.[ROLES_PROPERTY];
    return { roles: Array.isArray(roles) ? roles : [] };
  }

  return {
    adapter: deps.adapter as unknown as Configuration['adapter'],
    jwks: deps.jwks as unknown as Configuration['jwks'],
    cookies: { keys: createCookieSigner(deps.cookieKeys), long: cookieOptions, short: cookieOptions },
    routes: ROUTES,
    scopes: knownScopes(config),
    claims: {
      openid: ['sub'],
      profile: ['preferred_username'],
      email: ['email', 'email_verified'],
      roles: ['roles'],
    },
    conformIdTokenClaims: true,
    subjectTypes: ['public'],
    responseTypes: ['code'],
    // Chosen per client (./client-auth.ts); a client using another method than its own is refused invalid_client.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
    },
    enabledJWA: {
      idTokenSigningAlgValues: [alg],
      userinfoSigningAlgValues: [alg],
      introspectionSigningAlgValues: [alg],
      authorizationSigningAlgValues: [alg],
      // private_key_jwt assertions: asymmetric algorithms only (no client_secret_jwt).
      clientAuthSigningAlgValues: ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA', 'Ed25519'],
    },
    extraClientMetadata: {
      properties: [FIRST_PARTY_PROPERTY, ROLES_PROPERTY, ACCESS_TOKEN_TTL_PROPERTY, PREVIOUS_SECRET_PROPERTY],
      validator() {},
    },
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    rotateRefreshToken: true,
    // oidc-provider's default policy, plus: note whose grant a reused code or refresh token
    // revokes, while the rows still exist (the reuse audit entry names that user).
    async revokeGrantPolicy(ctx) {
      if (ctx.oidc.route === 'token') {
        const state = requestState(ctx);
        const refreshToken = ctx.oidc.entities.RefreshToken;
        const code = ctx.oidc.params?.code;
        if (refreshToken?.accountId) state.revokedAccount = refreshToken.accountId;
        else if (typeof code === 'string') state.revokedAccount = (await ctx.oidc.provider.AuthorizationCode.find(code, { ignoreExpiration: true }))?.accountId;
      }
      return !(ctx.oidc.route === 'revocation' && ctx.oidc.entities.AccessToken);
    },
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    expiresWithSession: async (_ctx, code) => !code.scopes.has('offline_access'),
    clientBasedCORS: (_ctx, origin, client) => client.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin) ?? false,
    ttl: {
      AccessToken: (_ctx, _token, client) => accessTokenTtlOf(client),
      ClientCredentials: (_ctx, _token, client) => accessTokenTtlOf(client),
      AuthorizationCode: () => config.tokens.authorizationCodeTtl,
      IdToken: () => config.tokens.idTokenTtl,
      RefreshToken: () => config.tokens.refreshTokenTtl,
      Session: () => config.tokens.sessionTtl,
      Grant: () => Math.max(config.tokens.refreshTokenTtl, config.tokens.sessionTtl),
      Interaction: () => INTERACTION_TTL,
      DeviceCode: () => config.deviceFlow.codeTtl,
      BackchannelAuthenticationRequest: () => 600,
      PreAuthorizedCode: () => 600,
    },
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PREFIX}/${interaction.uid}` },
    findAccount,
    extraTokenClaims,
    // oidc-provider remembers a grant per browser session only. A third-party app the user has
    // connected keeps its grant across sign-ins (connected apps, until disconnected): a second
    // authorization asking for no more than was granted skips the consent page.
    async loadExistingGrant(ctx) {
      const client = ctx.oidc.client!;
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(client.clientId);
      const found = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      const accountId = ctx.oidc.session?.accountId;
      if (found || ctx.oidc.result?.consent?.grantId || !accountId || (await firstPartyClient(ctx, client.clientId))) return found;
      const remembered = await deps.rememberedGrant(accountId, client.clientId);
      return remembered ? ctx.oidc.provider.Grant.find(remembered) : undefined;
    },
    formats: {
      customizers: {
        // Runs for every JWT access token just before it is signed: record user tokens so a
        // later revocation can name them. Of client_credentials tokens only those carrying admin
        // rights are recorded (they can then be revoked and named in tokens.revoked); the others
        // stay at one read per request and are only counted.
        async jwt(ctx, token, jwt) {
          if (token.kind === 'ClientCredentials') {
            const payload = jwt.payload as { jti: string; exp: number; scope?: string; roles?: string[]; client_id: string };
            const roles = Array.isArray(payload.roles) ? payload.roles : [];
            if (!carriesAdminRights(payload.scope, roles, config)) return;
            await revoker.recordIssued({ jti: payload.jti, grantId: null, subject: payload.client_id, sessionId: null, clientId: payload.client_id, expiresAt: payload.exp });
            if (ctx) requestState(ctx).issuedToClient.push({ jti: payload.jti, clientId: payload.client_id, scope: payload.scope ?? '', roles });
            return;
          }
          if (token.kind !== 'AccessToken' || !('accountId' in token) || !token.accountId) return;
          const payload = jwt.payload as { jti: string; exp: number };
          const exchanged = exchangeClaims(ctx);
          if (exchanged) Object.assign(payload, exchanged);
          await revoker.recordIssued({
            apiTokenId: exchanged?.api_token_id ?? null,
            jti: payload.jti,
            grantId: token.grantId ?? null,
            subject: token.accountId,
            sessionId: token.sid ?? null,
            clientId: token.clientId ?? String(payload['client_id' as keyof typeof payload]),
            expiresAt: payload.exp,
          });
          if (ctx) requestState(ctx).issued.push({ jti: payload.jti, subject: token.accountId, sid: token.sid, grantId: token.grantId });
        },
      },
    },
    features: {
      devInteractions: { enabled: false },
      registration: registrationFeature(config, deps.initialAccessToken),
      // Not offered (yet): discovery must not advertise what is not routed or supported.
      pushedAuthorizationRequests: { enabled: false },
      dPoP: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 8628, with our pages at /device (./device/).
      deviceFlow: deviceFlowFeature({ users, descriptions: scopeDescriptions(config) }),
      userinfo: { enabled: true },
      introspection: {
        enabled: true,
        // A client introspects its own tokens; only one registered with `tokens:introspect` (a
        // resource server, a gateway) those of other clients. Anything else answers `active: false`.
        // A public client cannot authenticate at all.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' && (token.clientId === client.clientId || mayIntrospectAnyToken(client.scope)),
      },
      revocation: {
        enabled: true,
        // RFC 7009 §2.1: only the client the token was issued to may revoke it.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          const client = ctx.oidc.client;
          ctx.set(PAGE_HEADERS(originsOf([...(client?.postLogoutRedirectUris ?? [])])));
          ctx.body = logoutPage(form, 'op.logoutForm');
        },
        async postLogoutSuccessSource(ctx) {
          ctx.set(PAGE_HEADERS());
          ctx.body = signedOutPage(ctx.oidc.client?.clientName);
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx, _client, oneOf) => {
          if (oneOf) return oneOf.includes(defaultAudience) ? defaultAudience : oneOf[0]!;
          return defaultAudience;
        },
        // Tokens for an API when the grant holds API scopes; a grant of OpenID scopes alone
        // gets an opaque token for userinfo (JWTs carry an audience and cannot be used there).
        useGrantedResource: async (_ctx, model) => [...(model as unknown as { scopes: Set<string> }).scopes].some((s) => !oidcScopes.has(s)),
        getResourceServerInfo: async (_ctx, indicator, client) => {
          const server = servers.find((s) => s.audience === indicator);
          if (!server) throw new errors.InvalidTarget();
          return {
            scope: server.scopes.join(' '),
            audience: server.audience,
            accessTokenTTL: accessTokenTtlOf(client),
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg } },
          };
        },
      },
    },
    async renderError(ctx, out, error) {
      let title = 'Something went wrong';
      let message = typeof out.error_description === 'string' ? out.error_description : 'The request could not be completed.';
      if (isStoreUnavailable(error)) {
        ctx.status = 503;
        ctx.set('Retry-After', String(OAUTH_RETRY_AFTER_SECONDS));
        title = 'Temporarily unavailable';
        message = 'The service is temporarily unavailable; nothing was changed. Try again shortly.';
      } else if (out.error === 'server_error') {
        message = 'An unexpected error occurred; nothing was changed.';
      } else if (out.error === 'invalid_redirect_uri' || out.error === 'invalid_client') {
        title = 'This application cannot sign you in';
      }
      ctx.set(PAGE_HEADERS());
      ctx.body = errorPage(title, message, String(out.error));
    },
  };
}
