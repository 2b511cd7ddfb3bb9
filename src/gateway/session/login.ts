/**
 * GET /login and GET /login/callback: the authorization code flow from the browser's side.
 *
 * /login?return_to=/path  creates a PKCE verifier, state and nonce, seals them with the return path
 *                         into a 10-minute cookie on Path=/login, and sends the browser (303) to
 *                         the Security Service's authorization endpoint.
 * /login/callback         takes that cookie (and clears it: a callback works once), lets
 *                         openid-client check state and iss and redeem the code, sets the session
 *                         cookie and sends the browser back to its path. Any failure is a small
 *                         HTML page with a "Try again" link: 400 when the request was refused
 *                         (expired, forged state, replayed code), 502 when the Security Service
 *                         could not be asked. Cancel on the sign-in page is no failure: a 200
 *                         page says the person cancelled, with links to sign in or go back.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.ts';
import { appendSetCookie, clearCookieLine, readCookie, setCookieLine } from './cookies.ts';
import { LOGIN_TYP, type KeyRing } from './sealed.ts';
import { failureCode, isUnavailable, type RelyingParty } from './relying-party.ts';
import { safeReturnTo } from './origin.ts';
import { sendRedirect, sendSignInCancelled, sendSignInFailed } from './pages.ts';
import type { SessionCookie } from './session-cookie.ts';

/** How long a sign-in may take, seconds (the Security Service's interaction lasts 15 minutes). */
export const LOGIN_TTL = 600;
const LOGIN_PATH = '/login';

const flowSchema = z.object({ v: z.string().min(43), s: z.string().min(1), n: z.string().min(1), r: z.string() });

export interface LoginDeps {
  rp: RelyingParty;
  ring: KeyRing;
  session: SessionCookie;
  logger: Logger;
  publicUrl: string;
  loginCookie: string;
  secure: boolean;
  sessionTtl: number;
  now: () => number;
}

const MESSAGES: Record<string, string> = {
  login_required: 'You need to sign in.',
  expired: 'This sign-in expired or was started in another window.',
  refused: 'The sign-in could not be completed.',
  unavailable: 'Sign-in is unavailable right now: the Security Service could not be reached.',
  too_large: 'The sign-in could not be completed: the session does not fit in a cookie.',
};

export function createLoginHandlers(deps: LoginDeps) {
  const { rp, ring, logger, publicUrl, loginCookie, secure } = deps;
  const retry = (returnTo: string) => `${LOGIN_PATH}?${new URLSearchParams({ return_to: returnTo })}`;
  const clearLoginCookie = (res: ServerResponse) => appendSetCookie(res, [clearCookieLine(loginCookie, LOGIN_PATH, secure)]);

  async function login(_req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    const returnTo = safeReturnTo(new URLSearchParams(query).get('return_to'), publicUrl);
    const checks = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
    let url: URL;
    try {
      url = await rp.authorizationUrl(checks);
    } catch (error) {
      logger.warn({ reason: failureCode(error) }, 'browser sign-in unavailable: discovery failed');
      return sendSignInFailed(res, 502, MESSAGES.unavailable!, retry(returnTo));
    }
    const now = deps.now();
    const sealed = await ring.seal({ v: checks.verifier, s: checks.state, n: checks.nonce, r: returnTo }, LOGIN_TYP, now + LOGIN_TTL, now);
    appendSetCookie(res, [setCookieLine(loginCookie, sealed, { path: LOGIN_PATH, maxAge: LOGIN_TTL, secure })]);
    sendRedirect(res, url.href);
  }

  async function callback(req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    const now = deps.now();
    clearLoginCookie(res);
    const raw = readCookie(req.headers.cookie, loginCookie);
    const flow = flowSchema.safeParse(raw ? await ring.open(raw, LOGIN_TYP, now) : undefined);
    if (!flow.success) {
      logger.info({ reason: raw ? 'login_cookie_invalid' : 'login_cookie_missing' }, 'browser sign-in refused');
      return sendSignInFailed(res, 400, MESSAGES.expired!, retry('/'));
    }
    const { v: verifier, s: state, n: nonce, r: returnTo } = flow.data;
    let session;
    try {
      // The redirect URI as registered: the public origin, whatever Host the request came with.
      const tokens = await rp.redeem(new URL(`${LOGIN_PATH}/callback?${query}`, publicUrl), { verifier, state, nonce }, now);
      session = deps.session.fromTokens(tokens, now + deps.sessionTtl);
    } catch (error) {
      const reason = failureCode(error);
      if (isUnavailable(error)) {
        logger.warn({ reason }, 'browser sign-in failed: Security Service unavailable');
        return sendSignInFailed(res, 502, MESSAGES.unavailable!, retry(returnTo));
      }
      logger.info({ reason }, 'browser sign-in refused');
      // Cancel on the sign-in or consent page: the person chose it, nothing failed.
      if (reason === 'access_denied') return sendSignInCancelled(res, retry(returnTo), returnTo);
      return sendSignInFailed(res, 400, MESSAGES[reason] ?? MESSAGES.refused!, retry(returnTo));
    }
    if (!(await deps.session.write(req, res, session, now))) {
      logger.error({ sub: session.sub }, 'browser sign-in failed: the tokens do not fit in the session cookie');
      return sendSignInFailed(res, 502, MESSAGES.too_large!, retry(returnTo));
    }
    logger.info({ sub: session.sub }, 'browser session started');
    sendRedirect(res, returnTo);
  }

  return { login, callback };
}
