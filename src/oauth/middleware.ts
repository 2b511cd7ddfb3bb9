/**
 * The outer middleware around every oidc-provider request. oidc-provider does the protocol; this
 * fills the gaps Gatehouse needs, each a small step after the provider has answered:
 *
 *   store outage              → 503 temporarily_unavailable instead of 500 server_error; a refresh
 *                               rotation it cut off is undone (./interrupted-rotations.ts)
 *   token, success            → audit `token.issued` (user grants) and `service_token.issued`
 *                               (client_credentials with admin rights), count every grant
 *   token, any error          → audit `token.refused` (reason = the OAuth error code); a device
 *                               poll answered authorization_pending is neither audited nor counted
 *   token, code/refresh reuse → audit `code.reused` / `refresh_token.reused`, publish tokens.revoked
 *   token, failed code use    → the code is consumed: a wrong PKCE verifier cannot be retried
 *   token, grant not allowed  → unauthorized_client (RFC 6749 §5.2) instead of invalid_request
 *   authorization, any error  → audit `authorization.refused` (error page or redirect to the client)
 *   introspection             → 401 invalid_client without client authentication; JWT tokens answered by us
 *                               (another client's token only for a `tokens:introspect` client);
 *                               errors audited `introspection.refused`
 *   revocation                → 401 invalid_client without client authentication; JWT access tokens
 *                               revoked by us; revoked grants published; errors audited `revocation.refused`
 *   logout confirmed          → every grant of the user revoked (but connected third-party apps'), `logout.succeeded` audited
 *
 * Refusals are audited without secrets: never the client secret, code, token or verifier.
 */
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../events/audit.ts';
import type { Logger } from '../shared/logger.ts';
import type { Metrics } from '../shared/metrics.ts';
import { isRefusal, type RefusalLimiter } from '../shared/refusal-limit.ts';
import { isStoreUnavailable } from '../store/index.ts';
import { requestState } from './request-state.ts';
import type { Revoker } from './revocation.ts';
import type { JwtAccessTokens } from './jwt-access-tokens.ts';
import { mayIntrospectAnyToken } from './resources.ts';
import { OAUTH_RETRY_AFTER_SECONDS } from './provider-config.ts';
import type { InterruptedRotations } from './interrupted-rotations.ts';

export interface MiddlewareDeps {
  revoker: Revoker;
  jwtTokens: JwtAccessTokens;
  audit: AuditLog;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** Counts refusals of the client-authenticating endpoints per client IP (blocked IPs never get here). */
  refusals?: RefusalLimiter | undefined;
  /** Refresh rotations a store outage cut off, to be undone (./interrupted-rotations.ts). */
  interrupted?: Pick<InterruptedRotations, 'remember'> | undefined;
}

type Ctx = KoaContextWithOIDC & Context;

const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable; nothing was changed. Try again shortly.' };

function bodyError(ctx: Ctx): string | undefined {
  const body = ctx.body as { error?: unknown } | undefined;
  return body && typeof body === 'object' && typeof body.error === 'string' ? body.error : undefined;
}

/**
 * The client id a refused request presented (Basic credentials or the client_id parameter), for
 * the audit entry when the client is unknown. Only the id: the secret is never read here.
 */
function presentedClientId(ctx: Ctx, oidc: Ctx['oidc']): string | undefined {
  const header = ctx.get('authorization');
  let id: string | undefined;
  if (/^basic /i.test(header)) {
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon > 0) {
      try {
        id = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      } catch {
        id = undefined;
      }
    }
  }
  const param = (oidc.params as Record<string, unknown> | undefined)?.client_id ?? (oidc.body as Record<string, unknown> | undefined)?.client_id ?? ctx.query.client_id;
  id ??= typeof param === 'string' ? param : undefined;
  return id === undefined || id === '' ? undefined : id.slice(0, 100);
}

const LIMITED_ROUTES = new Set(['token', 'introspection', 'revocation', 'registration', 'device_authorization']);

/** The client IP as fastify resolved it (http.trustedProxies): the mount pins it in X-Forwarded-For. */
function clientIp(ctx: Ctx): string {
  const pinned = ctx.req.headers['x-forwarded-for'];
  return typeof pinned === 'string' && pinned !== '' ? pinned : ctx.ip;
}

/** `ctx.oidc` exists only once a provider route matched. */
function oidcOf(ctx: Ctx): Ctx['oidc'] | undefined {
  return Object.getOwnPropertyDescriptor(ctx, 'oidc') ? ctx.oidc : undefined;
}

export function createProviderMiddleware(deps: MiddlewareDeps) {
  const { revoker, jwtTokens, audit, logger } = deps;
  const issuedCounter = deps.metrics?.counter('gatehouse_tokens_issued_total', 'Access tokens issued by the token endpoint', ['grant_type']);
  const clientTokenCounter = deps.metrics?.counter('gatehouse_client_credentials_tokens_total', 'client_credentials access tokens issued; recorded="true" for those carrying admin rights (stored and audited so they can be revoked)', ['recorded']);

  /** `<endpoint>.refused` for an error answer: reason = the OAuth error code. */
  async function recordRefusal(event: 'token.refused' | 'introspection.refused' | 'revocation.refused', ctx: Ctx, oidc: Ctx['oidc'], data: Record<string, unknown> = {}): Promise<void> {
    const clientId = oidc.client?.clientId;
    const presented = clientId === undefined ? presentedClientId(ctx, oidc) : undefined;
    await audit.record({
      event,
      actor: clientId ? `client:${clientId}` : `ip:${ctx.ip}`,
      clientId,
      ip: ctx.ip,
      reason: bodyError(ctx) ?? `http_${ctx.status}`,
      data: { ...data, ...(presented !== undefined ? { presentedClientId: presented } : {}) },
    });
  }

  async function afterToken(ctx: Ctx, oidc: Ctx['oidc']): Promise<void> {
    const state = requestState(ctx);
    const params = (oidc.params ?? {}) as Record<string, string | undefined>;
    const grantType = params.grant_type ?? 'unknown';
    const clientId = oidc.client?.clientId;
    const ip = ctx.ip;
    if (ctx.status === 200) {
      issuedCounter?.inc({ grant_type: grantType });
      for (const token of state.issued) {
        await audit.record({ event: 'token.issued', actor: `user:${token.subject}`, subject: token.subject, clientId, ip, data: { grantType, jti: token.jti } });
      }
      if (grantType === 'client_credentials') clientTokenCounter?.inc({ recorded: String(state.issuedToClient.length > 0) });
      for (const token of state.issuedToClient) {
        await audit.record({ event: 'service_token.issued', actor: `client:${token.clientId}`, subject: token.clientId, clientId: token.clientId, ip, data: { grantType, jti: token.jti, scope: token.scope, roles: token.roles } });
      }
      return;
    }
    const error = bodyError(ctx);
    // A device waiting for its user (RFC 8628 §3.5) is not refused: no audit row per poll.
    if (error === 'authorization_pending') return;
    if (error === 'invalid_request' && oidc.client && grantType !== 'unknown' && !oidc.client.grantTypeAllowed(grantType)) {
      // RFC 6749 §5.2 names this case; oidc-provider answers invalid_request.
      ctx.body = { error: 'unauthorized_client', error_description: 'the client is not allowed to use this grant type' };
    }
    await recordRefusal('token.refused', ctx, oidc, { grantType: grantType.slice(0, 100) });
    if (error !== 'invalid_grant') return;
    const replayedModel = state.replay?.model ?? (state.revokedGrants.length > 0 ? (grantType === 'refresh_token' ? 'RefreshToken' : 'AuthorizationCode') : undefined);
    if (replayedModel !== undefined) {
      const refresh = replayedModel === 'RefreshToken';
      const grants = [...new Set([...state.revokedGrants, ...(state.replay?.grantId ? [state.replay.grantId] : [])])];
      const subject = state.replay?.accountId ?? state.revokedAccount ?? null;
      await audit.record({ event: refresh ? 'refresh_token.reused' : 'code.reused', actor: clientId ? `client:${clientId}` : null, subject, clientId, ip, reason: 'reuse_detected', data: { grants } });
      for (const grantId of grants) await revoker.grantRevoked(grantId, refresh ? 'refresh_token_reused' : 'code_reused', { clientId, ip });
      return;
    }
    if (grantType === 'authorization_code' && oidc.client && typeof params.code === 'string') {
      // oidc-provider leaves a code usable after a failed exchange (wrong PKCE verifier,
      // redirect_uri mismatch): consume it so it cannot be retried.
      const code = await oidc.provider.AuthorizationCode.find(params.code, { ignoreExpiration: true });
      if (code && code.clientId === oidc.client.clientId && !(code as { consumed?: unknown }).consumed) await code.consume();
    }
  }

  async function afterAuthorization(ctx: Ctx, oidc: Ctx['oidc']): Promise<void> {
    const error = requestState(ctx).authorizationError;
    if (error === undefined) return;
    const clientId = oidc.client?.clientId;
    const params = (oidc.params ?? {}) as Record<string, unknown>;
    const redirectUri = typeof params.redirect_uri === 'string' ? params.redirect_uri.slice(0, 500) : undefined;
    const presented = clientId === undefined ? presentedClientId(ctx, oidc) : undefined;
    const redirected = ctx.status >= 300 && ctx.status < 400;
    await audit.record({
      event: 'authorization.refused',
      actor: oidc.session?.accountId ? `user:${oidc.session.accountId}` : `ip:${ctx.ip}`,
      subject: oidc.session?.accountId ?? null,
      clientId,
      ip: ctx.ip,
      reason: error,
      data: { delivery: redirected ? 'redirect' : 'error_page', ...(redirectUri !== undefined ? { redirectUri } : {}), ...(presented !== undefined ? { presentedClientId: presented } : {}) },
    });
  }

  /**
   * RFC 7662 §2.1 and RFC 7009 §2.1 require client authentication: a request without it is
   * invalid_client (401), not invalid_request (400). A body that failed to parse stays a 400.
   */
  function requireClientAuthentication(ctx: Ctx, oidc: Ctx['oidc'], allowPublic: boolean): boolean {
    const client = oidc.client;
    const authenticated = client !== undefined && (allowPublic || client.clientAuthMethod !== 'none');
    if (authenticated) return true;
    if (ctx.status !== 401 && oidc.body !== undefined) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="gatehouse"');
      ctx.body = { error: 'invalid_client', error_description: 'client authentication is required' };
    }
    return false;
  }

  async function afterIntrospection(ctx: Ctx, oidc: Ctx['oidc']): Promise<void> {
    if (requireClientAuthentication(ctx, oidc, false) && bodyError(ctx) === 'unsupported_token_type') {
      const client = oidc.client!;
      ctx.status = 200;
      ctx.body = await jwtTokens.introspect(String(oidc.params?.token), { clientId: client.clientId, anyClient: mayIntrospectAnyToken(client.scope) });
    }
    if (ctx.status >= 400) await recordRefusal('introspection.refused', ctx, oidc);
  }

  async function afterRevocation(ctx: Ctx, oidc: Ctx['oidc']): Promise<void> {
    // A public client revokes its own tokens with its client_id alone (RFC 7009 §5).
    if (!requireClientAuthentication(ctx, oidc, true)) {
      await recordRefusal('revocation.refused', ctx, oidc);
      return;
    }
    const clientId = oidc.client?.clientId;
    if (bodyError(ctx) === 'unsupported_token_type' && clientId) {
      await jwtTokens.revoke(String(oidc.params?.token), clientId);
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    if (ctx.status >= 400) {
      await recordRefusal('revocation.refused', ctx, oidc);
      return;
    }
    const state = requestState(ctx);
    if (ctx.status === 200 && state.revokedGrants.length > 0) {
      for (const grantId of state.revokedGrants) {
        await audit.record({ event: 'grant.revoked', actor: `client:${clientId}`, clientId, ip: ctx.ip, reason: 'revoked_by_client', data: { grantId } });
        await revoker.grantRevoked(grantId, 'grant_revoked', { clientId, ip: ctx.ip });
      }
    }
  }

  async function afterLogout(ctx: Ctx, oidc: Ctx['oidc']): Promise<void> {
    const state = requestState(ctx);
    const logout = state.logout;
    if (!logout) {
      for (const grantId of state.revokedGrants) await revoker.grantRevoked(grantId, 'logout', { clientId: oidc.client?.clientId, ip: ctx.ip });
      return;
    }
    const actor = `user:${logout.accountId}`;
    // oidc-provider keeps offline_access grants across a logout; Gatehouse ends them all but
    // those of connected third-party apps (ended by disconnecting the app, ./connected-apps.ts).
    await revoker.revokeUser(logout.accountId, 'logout', { ...(logout.sid ? { sessionId: logout.sid } : {}), keepConnectedApps: true, actor });
    await audit.record({ event: 'logout.succeeded', actor, subject: logout.accountId, clientId: logout.clientId, ip: ctx.ip });
  }

  return async function gatehouseProviderMiddleware(ctx: Ctx, next: Next): Promise<void> {
    ctx.set('X-Frame-Options', 'DENY');
    ctx.set('Content-Security-Policy', "frame-ancestors 'none'");
    const state = requestState(ctx);
    try {
      await next();
      const oidc = oidcOf(ctx);
      if (oidc && ctx.status < 500) {
        switch (oidc.route) {
          case 'token': await afterToken(ctx, oidc); break;
          case 'authorization':
          case 'resume': await afterAuthorization(ctx, oidc); break;
          case 'introspection': await afterIntrospection(ctx, oidc); break;
          case 'revocation': await afterRevocation(ctx, oidc); break;
          case 'end_session_confirm': await afterLogout(ctx, oidc); break;
          default: break;
        }
      }
    } catch (error) {
      // Errors outside oidc-provider's own handlers (session save, our steps above).
      state.serverError = error;
      ctx.status = 500;
      ctx.type = 'json';
      ctx.body = { error: 'server_error', error_description: 'An unexpected error occurred.' };
      logger.error({ err: error, path: ctx.path }, 'oauth request failed');
    }
    const route = oidcOf(ctx)?.route;
    if (deps.refusals && route !== undefined && LIMITED_ROUTES.has(route) && isRefusal(ctx.status) && bodyError(ctx) !== 'authorization_pending') {
      try {
        await deps.refusals.refused(clientIp(ctx));
      } catch (error) {
        logger.error({ err: error }, 'refusal limiter failed');
      }
    }
    if (ctx.status === 500 && state.serverError !== undefined && isStoreUnavailable(state.serverError)) {
      ctx.status = 503;
      ctx.set('Retry-After', String(OAUTH_RETRY_AFTER_SECONDS));
      if (ctx.response.is('json') || typeof ctx.body !== 'string') {
        ctx.type = 'json';
        ctx.body = UNAVAILABLE;
      }
      // The client gets no tokens: a refresh token this request consumed must work again.
      const entities = oidcOf(ctx)?.entities;
      const rotated = entities?.RotatedRefreshToken?.jti;
      const presented = entities?.RefreshToken;
      if (route === 'token' && rotated !== undefined) {
        const successor = presented?.jti;
        deps.interrupted?.remember(rotated, successor !== rotated ? successor : undefined);
      } else if (route === 'token' && presented?.jti !== undefined && !presented.consumed) {
        // Found unconsumed, then the store failed — possibly after the consume landed but before
        // its answer did (a connection cut mid-reply).
        deps.interrupted?.remember(presented.jti, undefined);
      }
    }
  };
}
