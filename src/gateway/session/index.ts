/**
 * Browser single sign-on for the gateway: the gateway is an OpenID Connect relying party of the
 * Security Service and keeps a browser's tokens in an encrypted HttpOnly cookie — no session
 * store, so gateway copies scale freely. docs/gateway.md "Browser sessions" is the user's view.
 *
 * What the gateway's pipeline calls:
 *   handle            before routing: /login, /login/callback and /logout belong to the gateway
 *   accessToken       in authenticate, when there is no Authorization header
 *   crossOrigin       after a cookie authenticated a request (403 when it is cross-origin)
 *   redirectToLogin   instead of 401 for a browser (Accept: text/html) on a protected route
 *   stripCookie       in forward: the session cookie never reaches an upstream
 *
 *   ./login.ts           GET /login, GET /login/callback
 *   ./logout.ts          GET|POST /logout
 *   ./session-cookie.ts  the session cookie's contents; ./sealed.ts its encryption (jose JWE)
 *   ./refresh.ts         single-flight refresh; ./shared-refreshes.ts across replicas (Redis)
 *   ./relying-party.ts   openid-client against the Security Service
 *   ./origin.ts          same-origin check, safe return paths; ./cookies.ts the cookies on the wire
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/index.ts';
import type { Logger } from '../../shared/logger.ts';
import { epochSeconds, systemClock, type Clock } from '../../shared/clock.ts';
import { cookieNames, withoutCookies } from './cookies.ts';
import { createKeyRing } from './sealed.ts';
import { createRelyingParty } from './relying-party.ts';
import { createSessionCookie } from './session-cookie.ts';
import { createRefresher, REFRESH_GRACE_SECONDS } from './refresh.ts';
import { createSharedRefreshes } from './shared-refreshes.ts';
import type { GatewayRedis } from '../redis.ts';
import { createLoginHandlers } from './login.ts';
import { createLogoutHandler } from './logout.ts';
import { crossOriginReason, safeReturnTo } from './origin.ts';
import { sendMethodNotAllowed, sendRedirect } from './pages.ts';

export { loadBrowserSessionSecrets, parseCookieKeys, type BrowserSessionSecrets } from './secrets.ts';
export { safeReturnTo } from './origin.ts';

export interface BrowserSessions {
  /** Gateway-owned paths: GET /login (?return_to=/relative/path), GET /login/callback, GET|POST /logout. True when it answered. */
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<boolean>;
  /** The access token of a valid session cookie, refreshing it first when it expires within refreshBefore (then sets the new cookie on `res`); undefined when there is no usable session (the bad cookie is cleared). */
  accessToken(req: IncomingMessage, res: ServerResponse): Promise<string | undefined>;
  /** 403 reason when a state-changing request authenticated only by the cookie is cross-origin; undefined when fine. */
  crossOrigin(req: IncomingMessage): string | undefined;
  /** Redirect a browser to /login, returning afterwards to `returnTo` (a relative path of this origin only). */
  redirectToLogin(res: ServerResponse, returnTo: string): void;
  /** The Location of that redirect, for a caller that writes the response itself. */
  loginLocation(returnTo: string): string;
  /** The Cookie header without the session cookie, for forwarding (undefined when nothing is left). */
  stripCookie(cookieHeader: string | undefined): string | undefined;
  /** Ends the session on this response (the gateway's verifier refused its token). */
  discard(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

export interface BrowserSessionOptions {
  config: Config;
  secrets: {
    clientSecret: string;
    /** One key, or the ring for a rotation (current first): every one opens cookies, the first seals new ones. */
    cookieKey: Uint8Array | readonly Uint8Array[];
  };
  logger: Logger;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Refreshes coordinated with the other replicas (`gateway.redis`). */
  redis?: GatewayRedis | undefined;
}

/** The origin browsers use to reach the gateway. */
export function gatewayPublicUrl(config: Config): string {
  return new URL(config.gateway.publicUrl ?? `http://localhost:${config.gateway.listen.port}`).origin;
}

/** Audience of the access tokens the gateway asks for (and accepts). */
export function gatewayAudience(config: Config): string {
  return config.gateway.audience ?? config.resources[0]!.audience;
}

const ROUTES: Record<string, string[]> = { '/login': ['GET', 'HEAD'], '/login/callback': ['GET'], '/logout': ['GET', 'POST'] };

export function createBrowserSessions(options: BrowserSessionOptions): BrowserSessions {
  const { config, logger } = options;
  const sso = config.gateway.sso;
  if (!sso) throw new TypeError('createBrowserSessions needs gateway.sso');
  const clock = options.clock ?? systemClock;
  const now = () => epochSeconds(clock);
  const publicUrl = gatewayPublicUrl(config);
  const secure = publicUrl.startsWith('https:');
  const names = cookieNames(sso.cookieName, secure);
  const keys = options.secrets.cookieKey instanceof Uint8Array ? [options.secrets.cookieKey] : [...options.secrets.cookieKey];
  const ring = createKeyRing(keys);
  const rp = createRelyingParty({
    issuer: config.issuer,
    internalBase: config.gateway.securityService,
    clientId: sso.clientId,
    clientSecret: options.secrets.clientSecret,
    scope: sso.scope,
    resource: gatewayAudience(config),
    redirectUri: `${publicUrl}/login/callback`,
    postLogoutRedirectUri: `${publicUrl}${sso.postLogoutPath}`,
    fetch: options.fetch ?? fetch,
  });
  const session = createSessionCookie({ name: names.session, secure, ring });
  const shared = options.redis === undefined ? undefined : createSharedRefreshes(options.redis, { ring, graceSeconds: REFRESH_GRACE_SECONDS });
  const refresher = createRefresher({ rp, logger, now, shared });
  const { login, callback } = createLoginHandlers({ rp, ring, session, logger, publicUrl, loginCookie: names.login, secure, sessionTtl: sso.sessionTtl, now });
  const logout = createLogoutHandler({ rp, session, logger, publicOrigin: publicUrl, postLogoutPath: sso.postLogoutPath, now });

  return {
    async handle(req, res, path, query) {
      const methods = ROUTES[path];
      if (!methods) return false;
      const method = req.method ?? 'GET';
      if (!methods.includes(method)) sendMethodNotAllowed(res, path, methods);
      else if (path === '/login') await login(req, res, query);
      else if (path === '/login/callback') await callback(req, res, query);
      else await logout(req, res);
      return true;
    },

    async accessToken(req, res) {
      const at = now();
      const found = await session.read(req, at);
      if (found.state === 'absent') return undefined;
      if (found.state === 'invalid') {
        session.clear(req, res);
        return undefined;
      }
      const current = found.session;
      if (current.accessTokenExpiresAt - at > sso.refreshBefore) return current.accessToken;
      const stillValid = current.accessTokenExpiresAt > at ? current.accessToken : undefined;
      if (!current.refreshToken) {
        if (!stillValid) session.clear(req, res);
        return stillValid;
      }
      const outcome = await refresher.refresh({ ...current, refreshToken: current.refreshToken }, at);
      if (outcome.kind === 'unavailable') return stillValid; // keep the cookie: the next request tries again
      if (outcome.kind === 'ended' || !(await session.write(req, res, outcome.session, at))) {
        session.clear(req, res);
        return undefined;
      }
      return outcome.session.accessToken;
    },

    crossOrigin(req) {
      return crossOriginReason(req, publicUrl);
    },

    redirectToLogin(res, returnTo) {
      sendRedirect(res, this.loginLocation(returnTo));
    },

    loginLocation(returnTo) {
      return `/login?${new URLSearchParams({ return_to: safeReturnTo(returnTo, publicUrl) })}`;
    },

    discard(req, res) {
      session.clear(req, res);
    },

    stripCookie(cookieHeader) {
      return withoutCookies(cookieHeader, names.session, [names.login]);
    },

    async close() {
      refresher.clear();
    },
  };
}
