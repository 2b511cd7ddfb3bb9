/**
 * Login and consent: the pages oidc-provider sends the browser to (`/interaction/:uid`) and the
 * form posts that finish each step. First-party clients never see the consent page.
 *
 *   GET  /interaction/:uid          login form, consent page, or (first-party) straight back
 *   POST /interaction/:uid/login    check the password (identity's authenticator, throttled)
 *   POST /interaction/:uid/consent  grant what the client asked for
 *   POST /interaction/:uid/abort    the user cancelled or denied consent: access_denied to the client (consent.denied audited)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { errors as oidcErrors } from 'oidc-provider';
import { z } from 'zod';
import type { AuditLog } from '../../events/audit.ts';
import type { Logger } from '../../shared/logger.ts';
import { isStoreUnavailable } from '../../store/index.ts';
import { GatehouseError } from '../../shared/errors.ts';
import { parseInput } from '../../shared/validation.ts';
import type { PasswordAuthenticator, UserLookup } from '../types.ts';
import { FIRST_PARTY_PROPERTY } from '../clients.ts';
import { INTERACTION_PREFIX, SIGN_IN_ROUTE } from '../provider-config.ts';
import { PAGE_HEADERS, originsOf } from '../views/layout.ts';
import { consentPage, errorPage, loginPage } from '../views/pages.ts';
import { waitInWords } from '../../shared/html.ts';
import { csrfToken, csrfValid } from './csrf.ts';
import { describePermissions, grantConsent } from './consent.ts';
import { registerFederationRoutes, type FederationRouteDeps } from './federation.ts';

export interface InteractionDeps {
  provider(): Provider;
  authenticator: PasswordAuthenticator;
  users: UserLookup;
  audit: AuditLog;
  logger: Logger;
  cookieKeys: string[];
  /** Scope → plain words for the consent page (resources.ts `scopeDescriptions`). */
  scopeDescriptions: ReadonlyMap<string, string>;
  /** Rewrites Host / X-Forwarded-* so URLs oidc-provider builds use the issuer's origin. */
  pinOrigin(request: FastifyRequest): void;
  /** External identity providers (./federation.ts): their links on the login page and their routes. */
  federation?: FederationRouteDeps;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

const uidParams = z.object({ uid: z.string().min(1).max(100) });
const csrfForm = z.object({ csrf: z.string().max(200) }).loose();
const loginForm = z.object({ csrf: z.string().max(200), username: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) }).strict();

/** Why a form post was refused before it did anything (the `interaction.refused` audit reason). */
type FormRefusal = 'expired' | 'csrf_token' | 'unknown_client';

class PageError extends Error {
  readonly status: number;
  readonly title: string;
  readonly refusal: FormRefusal | undefined;
  constructor(status: number, title: string, message: string, refusal?: FormRefusal) {
    super(message);
    this.status = status;
    this.title = title;
    this.refusal = refusal;
  }
}

const expired = () => new PageError(400, 'Sign-in expired', 'This sign-in request has expired or was already completed. Go back to the application and start again.', 'expired');


export function registerInteractions(app: FastifyInstance, deps: InteractionDeps): void {
  const { authenticator, users, audit, cookieKeys } = deps;

  async function load(request: FastifyRequest, reply: FastifyReply): Promise<{ details: Details; provider: Provider; uid: string }> {
    const params = uidParams.safeParse(request.params);
    if (!params.success) throw expired();
    deps.pinOrigin(request);
    const provider = deps.provider();
    let details: Details;
    try {
      details = await provider.interactionDetails(request.raw, reply.raw);
    } catch (error) {
      if (error instanceof oidcErrors.SessionNotFound) throw expired();
      throw error;
    }
    if (details.uid !== params.data.uid) throw expired();
    return { details, provider, uid: details.uid };
  }

  /** Every form post: the interaction, the parsed form, and its CSRF token checked — in this order, in one place. */
  async function loadForm<T extends { csrf: string }>(request: FastifyRequest, reply: FastifyReply, schema: z.ZodType<T>, pageName: string) {
    const loaded = await load(request, reply);
    // validation_failed (422), shown as the "Invalid form" page by the error handler below.
    const form = parseInput(schema, request.body ?? {}, 'The form is incomplete or malformed');
    if (!csrfValid(cookieKeys, loaded.details.uid, form.csrf)) throw new PageError(403, 'Form expired', `The form was not submitted from this ${pageName}. Go back and try again.`, 'csrf_token');
    return { ...loaded, form };
  }

  function send(reply: FastifyReply, status: number, html: string, details?: Details): FastifyReply {
    const targets = details ? originsOf([details.params.redirect_uri as string | undefined]) : [];
    return reply.code(status).headers(PAGE_HEADERS(targets)).send(html);
  }

  async function clientOf(provider: Provider, details: Details) {
    const client = await provider.Client.find(String(details.params.client_id));
    if (!client) throw new PageError(400, 'Unknown application', 'The application that sent you here is no longer registered.', 'unknown_client');
    return client;
  }

  function loginHtml(details: Details, clientName: string, extra: { username?: string; message?: string } = {}): string {
    return loginPage({
      action: `${INTERACTION_PREFIX}/${details.uid}/login`,
      abortAction: `${INTERACTION_PREFIX}/${details.uid}/abort`,
      csrf: csrfToken(cookieKeys, details.uid),
      clientName,
      ...extra,
      providers: deps.federation?.federation.providers.map((p) => ({ name: p.name, href: `${INTERACTION_PREFIX}/${details.uid}/federation/${p.id}` })),
    });
  }

  async function finish(request: FastifyRequest, reply: FastifyReply, provider: Provider, result: Parameters<Provider['interactionResult']>[2]): Promise<FastifyReply> {
    const returnTo = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: true });
    return reply.code(303).header('location', returnTo).send();
  }

  app.register(async (scope) => {
    scope.setErrorHandler(async (error, request, reply) => {
      if (error instanceof PageError) {
        // A form post refused before it changed anything (no live interaction — a cross-site post
        // carries no SameSite=Lax cookie —, another page's CSRF token): audited, and counted by the
        // refusal limiter like any refused sign-in, so it cannot flood the audit log.
        if (request.method === 'POST' && error.refusal) {
          await audit.record({ event: 'interaction.refused', ip: request.ip, reason: error.refusal, data: { path: request.routeOptions.url ?? null } });
        }
        return send(reply, error.status, errorPage(error.title, error.message));
      }
      if (error instanceof GatehouseError && error.code === 'validation_failed') return send(reply, 422, errorPage('Invalid form', 'The form was incomplete or malformed. Go back and try again.'));
      if (isStoreUnavailable(error)) {
        request.log.error({ err: error }, 'interaction failed: store unavailable');
        return send(reply.header('retry-after', '1'), 503, errorPage('Temporarily unavailable', 'The service is temporarily unavailable; nothing was changed. Try again shortly.'));
      }
      const status = (error as { statusCode?: number }).statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) return send(reply, status, errorPage('Invalid request', 'The request could not be understood. Go back and try again.'));
      request.log.error({ err: error }, 'interaction failed');
      return send(reply, 500, errorPage('Something went wrong', 'An unexpected error occurred; nothing was changed.'));
    });

    scope.get(`${INTERACTION_PREFIX}/:uid`, async (request, reply) => {
      const { details, provider } = await load(request, reply);
      const client = await clientOf(provider, details);
      const clientName = client.clientName ?? client.clientId;
      if (details.prompt.name === 'login') return send(reply, 200, loginHtml(details, clientName), details);
      if (details.prompt.name !== 'consent') throw expired();
      const firstParty = (client as unknown as Record<string, unknown>)[FIRST_PARTY_PROPERTY] === true;
      if (firstParty) {
        const { result, scopes } = await grantConsent(provider, details);
        await audit.record({ event: 'consent.granted', actor: `user:${details.session?.accountId}`, subject: details.session?.accountId ?? null, clientId: client.clientId, ip: request.ip, reason: 'first_party', data: { scopes } });
        return finish(request, reply, provider, result);
      }
      const user = details.session?.accountId ? await users.findById(details.session.accountId) : undefined;
      return send(reply, 200, consentPage({
        action: `${INTERACTION_PREFIX}/${details.uid}/consent`,
        abortAction: `${INTERACTION_PREFIX}/${details.uid}/abort`,
        csrf: csrfToken(cookieKeys, details.uid),
        clientName,
        username: user?.username ?? 'your account',
        permissions: describePermissions(details, deps.scopeDescriptions),
      }), details);
    });

    scope.post(SIGN_IN_ROUTE, async (request, reply) => {
      const { details, provider, form } = await loadForm(request, reply, loginForm, 'sign-in page');
      if (details.prompt.name !== 'login') throw expired();
      const client = await clientOf(provider, details);
      const clientName = client.clientName ?? client.clientId;
      const outcome = await authenticator.authenticate({ username: form.username, password: form.password, ip: request.ip });
      if (outcome.ok) return finish(request, reply, provider, { login: { accountId: outcome.user.id } });
      // One message for unknown user and wrong password; a delay or lockout is reported the same
      // way whether or not the account exists (identity throttles by name and by IP alike).
      if (outcome.reason === 'locked' || outcome.reason === 'throttled') {
        const wait = Math.max(1, Math.ceil(outcome.retryAfter ?? 60));
        reply.header('retry-after', String(wait));
        return send(reply, 429, loginHtml(details, clientName, { username: form.username, message: `Too many failed sign-in attempts. Try again in ${waitInWords(wait)}.` }), details);
      }
      if (outcome.reason === 'busy') {
        const wait = Math.max(1, Math.ceil(outcome.retryAfter ?? 1));
        reply.header('retry-after', String(wait));
        return send(reply, 503, loginHtml(details, clientName, { username: form.username, message: `The service is busy. Try again in ${waitInWords(wait)}.` }), details);
      }
      if (outcome.reason === 'disabled') {
        return send(reply, 403, loginHtml(details, clientName, { username: form.username, message: 'This account is disabled. Contact your administrator.' }), details);
      }
      return send(reply, 401, loginHtml(details, clientName, { username: form.username, message: 'Incorrect username or password.' }), details);
    });

    scope.post(`${INTERACTION_PREFIX}/:uid/consent`, async (request, reply) => {
      const { details, provider } = await loadForm(request, reply, csrfForm, 'page');
      if (details.prompt.name !== 'consent') throw expired();
      const { result, scopes } = await grantConsent(provider, details);
      await audit.record({ event: 'consent.granted', actor: `user:${details.session?.accountId}`, subject: details.session?.accountId ?? null, clientId: String(details.params.client_id), ip: request.ip, reason: 'user_consent', data: { scopes } });
      return finish(request, reply, provider, result);
    });

    scope.post(`${INTERACTION_PREFIX}/:uid/abort`, async (request, reply) => {
      const { provider, details } = await loadForm(request, reply, csrfForm, 'page');
      if (details.prompt.name === 'consent') {
        const accountId = details.session?.accountId ?? null;
        await audit.record({ event: 'consent.denied', actor: accountId ? `user:${accountId}` : null, subject: accountId, clientId: String(details.params.client_id), ip: request.ip, reason: 'user_denied', data: { scopes: describePermissions(details, deps.scopeDescriptions).map((line) => line.scope) } });
      }
      return finish(request, reply, provider, { error: 'access_denied', error_description: 'The user cancelled the request' });
    });

    if (deps.federation) registerFederationRoutes(scope, { load, loadForm, send, finish, expired, pageError: (status, title, message) => new PageError(status, title, message) }, deps.federation);
  });
}
