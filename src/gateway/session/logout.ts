/**
 * GET|POST /logout: ends the browser session here and at the Security Service.
 *
 * The session cookie is cleared, the refresh token revoked (RFC 7009: the grant ends, so a copy
 * of the cookie is worthless too), and the browser is sent (303) to the Security Service's
 * end_session endpoint with the ID token as hint; the user confirms there, the SSO session ends,
 * and the browser lands on `postLogoutPath`.
 *
 * CSRF: POST must pass the same-origin check (403 otherwise). GET works from a plain link on this
 * origin; a GET that a browser marks as coming from another site (Sec-Fetch-Site: cross-site or
 * same-site) only gets a page with a sign-out button (a same-origin POST), so a foreign page
 * cannot sign the user out with a link or an image. Browsers that send no Sec-Fetch-Site are let
 * through: a forced logout is an annoyance, not a breach.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../shared/logger.ts';
import { GatehouseError } from '../../shared/errors.ts';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../shared/problem.ts';
import { crossOriginReason } from './origin.ts';
import { sendLogoutConfirmation, sendRedirect } from './pages.ts';
import { failureCode, type RelyingParty } from './relying-party.ts';
import type { SessionCookie } from './session-cookie.ts';

export interface LogoutDeps {
  rp: RelyingParty;
  session: SessionCookie;
  logger: Logger;
  publicOrigin: string;
  postLogoutPath: string;
  now: () => number;
}

export function sendForbidden(res: ServerResponse, reason: string, instance: string): void {
  const body = JSON.stringify(toProblem(new GatehouseError('forbidden', reason), instance));
  res.writeHead(403, { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createLogoutHandler(deps: LogoutDeps) {
  const { rp, logger } = deps;

  return async function logout(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      const reason = crossOriginReason(req, deps.publicOrigin);
      if (reason) return sendForbidden(res, reason, '/logout');
    } else {
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') return sendLogoutConfirmation(res);
    }
    const found = await deps.session.read(req, deps.now());
    deps.session.clear(req, res);
    const session = found.state === 'valid' ? found.session : undefined;
    if (session?.refreshToken) {
      try {
        await rp.revoke(session.refreshToken);
      } catch (error) {
        // The end_session step below revokes the user's grants as well; this one is a head start.
        logger.warn({ sub: session.sub, reason: failureCode(error) }, 'browser logout: refresh token revocation failed');
      }
    }
    logger.info({ sub: session?.sub }, 'browser session ended: logout');
    let target: string;
    try {
      target = (await rp.endSessionUrl(session?.idToken)).href;
    } catch (error) {
      logger.warn({ reason: failureCode(error) }, 'browser logout: Security Service unavailable, signed out of the gateway only');
      target = deps.postLogoutPath;
    }
    sendRedirect(res, target);
  };
}
