/**
 * The account page: one server-rendered page per signed-in user and its form posts.
 *
 *   GET  /account                       the page (profile, password, sessions, tokens, apps, identities)
 *   POST /account/password              change the password (current + new twice; throttled like sign-in)
 *   POST /account/sessions/end          end one sign-in session
 *   POST /account/sessions/end-all      end every session, this one too
 *   POST /account/tokens                create a personal API token (shown once, on the next page)
 *   POST /account/tokens/revoke         revoke one
 *   POST /account/apps/disconnect       disconnect a third-party app
 *   POST /account/identities/unlink     remove a linked external identity
 *
 * Every post, in this order: the caller (./caller.ts: 401 page otherwise), the origin and the
 * per-session CSRF token (403 page, audited, nothing changed), the form (zod), the change; then
 * 303 back to the page with a flash message (POST-redirect-GET). No scripts anywhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { PAGE_HEADERS } from '../oauth/index.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { bearerChallenge } from '../shared/bearer-challenge.ts';
import { isStoreUnavailable } from '../store/index.ts';
import { epochSeconds } from '../shared/clock.ts';
import { waitInWords } from '../shared/html.ts';
import type { AccountDeps } from './types.ts';
import { ACCOUNT_ROUTES as R, FIRST_PASSWORD_WINDOW, maySetFirstPassword } from './paths.ts';
import { createCallerCheck, NotSignedIn, type AccountCaller } from './caller.ts';
import { crossOrigin, csrfToken, csrfValid } from './csrf.ts';
import { createFlash, type Flash } from './flash.ts';
import { csrfOnly, forms } from './forms.ts';
import { accountPage, errorPage, refusedPage, signedOutPage } from './views/page.ts';
import { expiryChoices } from './views/sections.ts';

/** Where the 401 page sends a person to sign in: the gateway's browser sign-in, back here after. */
export const SIGN_IN_PATH = `/login?${new URLSearchParams({ return_to: R.page })}`;

type Outcome = Omit<Flash, 'until'> & { section: string };
const ok = (message: string, section: string, token?: string): Outcome => ({ kind: 'ok', message, section, ...(token !== undefined ? { token } : {}) });
const refused = (message: string, section: string): Outcome => ({ kind: 'error', message, section });

export function registerAccountRoutes(app: FastifyInstance, deps: AccountDeps & { passwordPolicy: { minLength: number } }): void {
  const origin = new URL(deps.issuer).origin;
  const now = () => epochSeconds(deps.clock);
  const callerOf = createCallerCheck(deps);
  const flash = createFlash({ masterKey: deps.masterKey, secure: origin.startsWith('https:'), now });

  // `same-origin`, not the sign-in pages' `no-referrer`: under no-referrer a browser posts the
  // forms with `Origin: null`, and the origin check below would refuse every one of them.
  const headers = { ...PAGE_HEADERS(), 'referrer-policy': 'same-origin' };
  const send = (reply: FastifyReply, status: number, html: string) => reply.code(status).headers(headers).send(html);

  /** A public, user-facing refusal from a component (bad name, weak password, unknown scope …), or rethrown. */
  function publicRefusal(error: unknown, section: string): Outcome {
    if (isGatehouseError(error) && error.status >= 400 && error.status < 500) return refused(error.description, section);
    throw error;
  }

  /** One form post on `scope`: caller, origin + CSRF, form, change, then 303 with the flash. */
  function formPost(scope: FastifyInstance) {
    return <S extends z.ZodType>(path: string, schema: S, handle: (caller: AccountCaller, form: z.output<S>, request: FastifyRequest) => Promise<Outcome>) => {
      scope.post(path, async (request, reply) => {
        const caller = await callerOf(request);
        const body = csrfOnly.safeParse(request.body ?? {});
        const why = crossOrigin(request, origin) ?? (body.success && csrfValid(deps.cookieKeys, caller.sid, body.data.csrf) ? undefined : 'csrf_token');
        if (why !== undefined) {
          await deps.audit.record({ event: 'account.form_refused', actor: caller.actor, subject: caller.user.id, ip: request.ip, reason: why === 'csrf_token' ? 'csrf_token' : 'cross_origin', data: { path } });
          return send(reply, 403, refusedPage());
        }
        const form = schema.safeParse(request.body);
        const outcome = form.success ? await handle(caller, form.data, request) : refused('The form was incomplete or malformed; nothing was changed.', '');
        const { section, ...message } = outcome;
        flash.set(reply, caller.user.id, message);
        return reply.code(303).header('location', section ? `${R.page}#${section}` : R.page).header('cache-control', 'no-store').send();
      });
    };
  }

  async function handleError(error: unknown, request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof NotSignedIn) {
      request.log.debug({ reason: error.message }, 'account page: not signed in');
      const said = error.subject === undefined ? undefined : flash.take(request, reply, error.subject);
      return send(reply.header('www-authenticate', bearerChallenge('unauthorized')), 401, signedOutPage(said, SIGN_IN_PATH));
    }
    if (isStoreUnavailable(error) || (isGatehouseError(error) && error.status === 503)) {
      request.log.error({ err: error }, 'account page: store unavailable');
      return send(reply.header('retry-after', '1'), 503, errorPage('Temporarily unavailable', 'The service is temporarily unavailable; nothing was changed. Try again shortly.'));
    }
    const status = (error as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) return send(reply, status, errorPage('Invalid request', 'The request could not be understood. Go back and try again.'));
    request.log.error({ err: error }, 'account page failed');
    return send(reply, 500, errorPage('Something went wrong', 'An unexpected error occurred; nothing was changed.'));
  }

  async function showPage(request: FastifyRequest, reply: FastifyReply) {
    const caller = await callerOf(request);
    const { user } = caller;
    const [hasPassword, apiTokens, connectedApps, linkedIdentities] = await Promise.all([
      deps.users.hasPassword(user.id),
      deps.apiTokens?.list(user.id),
      deps.connectedApps?.list(user.id),
      deps.linkedIdentities?.list(user.id),
    ]);
    return send(reply, 200, accountPage({
      user,
      csrf: csrfToken(deps.cookieKeys, caller.sid),
      flash: flash.take(request, reply, user.id),
      apiExampleUrl: deps.apiExampleUrl,
      passwordPolicy: deps.passwordPolicy,
      passwordMode: hasPassword ? 'change' : maySetFirstPassword(caller.session.signedInAt, now()) ? 'set' : 'set-after-sign-in',
      sessions: caller.sessions,
      current: caller.session,
      apiTokens,
      scopeChoices: deps.scopeChoices(user),
      apiTokenMaxTtl: deps.apiTokenMaxTtl,
      connectedApps,
      linkedIdentities,
    }));
  }

  app.register(async (scope) => {
    scope.setErrorHandler(handleError);
    scope.get(R.page, showPage);
    const post = formPost(scope);
    post(R.password, forms.password, async (caller, form, request) => {
      if (form.password !== form.confirm) return refused('The new passwords do not match; nothing was changed.', 'password');
      const first = !(await deps.users.hasPassword(caller.user.id));
      if (first) {
        // No current password to ask for: a recent sign-in stands in for it.
        if (!maySetFirstPassword(caller.session.signedInAt, now())) {
          return refused(`A first password can be set within ${FIRST_PASSWORD_WINDOW / 60} minutes of signing in: sign out, sign in again, then set it. Nothing was changed.`, 'password');
        }
      } else {
        if (form.current === undefined) return refused('Enter your current password; nothing was changed.', 'password');
        const check = await deps.checkPassword({ username: caller.user.username, password: form.current, ip: request.ip });
        if (!check.ok) {
          if (check.reason === 'throttled' || check.reason === 'locked') {
            return refused(`Too many wrong passwords. Try again in ${waitInWords(Math.max(1, Math.ceil(check.retryAfter ?? 60)))}.`, 'password');
          }
          if (check.reason === 'busy') return refused(`The service is busy. Try again in ${waitInWords(Math.max(1, Math.ceil(check.retryAfter ?? 1)))}.`, 'password');
          return refused('Your current password is not correct; nothing was changed.', 'password');
        }
      }
      try {
        await deps.users.setPassword(caller.user.id, form.password, caller.actor);
      } catch (error) {
        return publicRefusal(error, 'password');
      }
      return ok(`Your password was ${first ? 'set' : 'changed'}. Every session was signed out, this one too: sign in again with your new password.`, 'password');
    });

    post(R.endSession, forms.endSession, async (caller, form) => {
      const ended = await deps.sessions.end(caller.user.id, form.session, caller.actor);
      return ended ? ok('The session was ended.', 'sessions') : refused('That session had already ended.', 'sessions');
    });

    post(R.endAllSessions, forms.endAllSessions, async (caller) => {
      const count = await deps.sessions.endAll(caller.user.id, caller.actor);
      return ok(`${count} session${count === 1 ? ' was' : 's were'} ended, this one too: sign in again to continue.`, 'sessions');
    });

    post(R.createToken, forms.createToken, async (caller, form) => {
      if (!deps.apiTokens) return refused('Personal API tokens are not configured on this server.', 'tokens');
      if (!expiryChoices(deps.apiTokenMaxTtl).some(([, seconds]) => seconds === form.expiresIn)) return refused('Choose one of the offered expiry times.', 'tokens');
      const allowed = new Set(deps.scopeChoices(caller.user));
      const unknown = form.scopes.filter((s) => !allowed.has(s));
      if (unknown.length > 0) return refused(`You cannot give a token the scope ${unknown[0]}.`, 'tokens');
      try {
        const created = await deps.apiTokens.create({ userId: caller.user.id, name: form.name, scopes: [...new Set(form.scopes)], expiresIn: form.expiresIn }, caller.actor);
        return ok(`The token “${created.summary.name}” was created.`, 'tokens', created.token);
      } catch (error) {
        return publicRefusal(error, 'tokens');
      }
    });

    post(R.revokeToken, forms.revokeToken, async (caller, form) => {
      if (!deps.apiTokens) return refused('Personal API tokens are not configured on this server.', 'tokens');
      const revoked = await deps.apiTokens.revoke(caller.user.id, form.id, caller.actor);
      return revoked ? ok('The token was revoked: it stops working within a second.', 'tokens') : refused('No such token (it may have been revoked already).', 'tokens');
    });

    post(R.disconnectApp, forms.disconnectApp, async (caller, form) => {
      if (!deps.connectedApps) return refused('Connected apps are not configured on this server.', 'apps');
      const done = await deps.connectedApps.disconnect(caller.user.id, form.client, caller.actor);
      return done ? ok('The app was disconnected: its access ends within a second.', 'apps') : refused('That app is not connected.', 'apps');
    });

    post(R.unlinkIdentity, forms.unlinkIdentity, async (caller, form) => {
      if (!deps.linkedIdentities) return refused('External identity providers are not configured on this server.', 'identities');
      try {
        const done = await deps.linkedIdentities.unlink(caller.user.id, form.provider, form.subject, caller.actor);
        return done ? ok('The identity was removed: you can no longer sign in with it.', 'identities') : refused('That identity is not linked to your account.', 'identities');
      } catch (error) {
        return publicRefusal(error, 'identities');
      }
    });
  });
}
