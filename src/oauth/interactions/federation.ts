/**
 * Sign-in through an external identity provider, from the login interaction:
 *
 *   GET  /interaction/:uid/federation/:provider  the "Sign in with …" link: redirect to the provider
 *   GET  /federation/:provider/callback          its answer (the redirect URI registered there)
 *   GET  /interaction/:uid/federation            a linked identity signs in; an unknown one gets the choice page
 *   POST /interaction/:uid/federation/create     create an account for the identity
 *   POST /interaction/:uid/federation/link       link it to an existing account, after its password
 *
 * The protocol (openid-client) and the accounts live in identity (src/identity/federation/); this
 * file is the HTTP side. A provider that fails answers its own page within its timeout: the
 * sign-in page, password sign-in and the other providers are untouched.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import { z } from 'zod';
import { waitInWords } from '../../shared/html.ts';
import { epochSeconds, type Clock } from '../../shared/clock.ts';
import { AccountRefused, FederationError, type ExternalIdentity, type Federation, type User } from '../../identity/index.ts';
import type { PasswordAuthenticator } from '../types.ts';
import { INTERACTION_PREFIX, INTERACTION_TTL } from '../provider-config.ts';
import { federationErrorPage, firstSignInPage } from '../views/federation-pages.ts';
import { csrfToken } from './csrf.ts';
import { createSealedCookies, FLOW_COOKIE, IDENTITY_COOKIE } from './federation-cookies.ts';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;
type Result = Parameters<Provider['interactionResult']>[2];

/** The helpers of ./routes.ts these routes share (loading the interaction, CSRF-checked forms, pages, finishing). */
export interface InteractionKit {
  load(request: FastifyRequest, reply: FastifyReply): Promise<{ details: Details; provider: Provider; uid: string }>;
  loadForm<T extends { csrf: string }>(request: FastifyRequest, reply: FastifyReply, schema: z.ZodType<T>, pageName: string): Promise<{ details: Details; provider: Provider; uid: string; form: T }>;
  send(reply: FastifyReply, status: number, html: string, details?: Details): FastifyReply;
  finish(request: FastifyRequest, reply: FastifyReply, provider: Provider, result: Result): Promise<FastifyReply>;
  expired(): Error;
  pageError(status: number, title: string, message: string): Error;
}

export interface FederationRouteDeps {
  federation: Federation;
  authenticator: PasswordAuthenticator;
  issuer: string;
  cookieKeys: string[];
  clock: Clock;
}

/** The path of the link form: its password attempts count against the sign-in refusal limit. */
export const FEDERATION_LINK_ROUTE = `${INTERACTION_PREFIX}/:uid/federation/link`;
const FLOW_TTL = 600;

const providerParams = z.object({ uid: z.string().min(1).max(100).optional(), provider: z.string().min(1).max(32) });
const csrfForm = z.object({ csrf: z.string().max(200) }).loose();
const linkForm = z.object({ csrf: z.string().max(200), username: z.string().trim().min(1).max(320), password: z.string().min(1).max(1024) }).strict();

interface FlowCookie { uid: string; provider: string; flow: { state: string; nonce?: string; verifier: string } }
interface IdentityCookie { uid: string; identity: ExternalIdentity }

const REFUSALS: Record<string, string> = {
  email_missing: 'The provider did not share an e-mail address, which a new account needs. Link to an existing account instead.',
  email_in_use: 'An account with this e-mail address already exists. If it is yours, sign in to it below to link them.',
  email_invalid: 'The e-mail address the provider shared is not valid here. Link to an existing account instead.',
  already_linked: 'This identity is already linked to an account. Start again from the sign-in page.',
};

export function registerFederationRoutes(scope: FastifyInstance, kit: InteractionKit, deps: FederationRouteDeps): void {
  const { federation, authenticator, cookieKeys } = deps;
  const issuer = deps.issuer.replace(/\/+$/, '');
  const cookies = createSealedCookies(cookieKeys, new URL(issuer).protocol === 'https:', () => epochSeconds(deps.clock));
  const callbackUrl = (id: string) => `${issuer}/federation/${id}/callback`;
  const back = (uid: string) => `${INTERACTION_PREFIX}/${uid}`;
  const nameOf = (id: string) => federation.providers.find((p) => p.id === id)?.name ?? id;

  function failurePage(reply: FastifyReply, error: FederationError, uid: string | undefined): FastifyReply {
    const name = nameOf(error.provider);
    if (error.reason === 'provider_unavailable') {
      return kit.send(reply.header('retry-after', '30'), 503, federationErrorPage(`${name} is not available`, `${name} did not answer in time or could not be reached. Try again later, or sign in another way.`, uid && back(uid)));
    }
    if (error.reason === 'provider_error') {
      const cancelled = error.check === 'access_denied';
      return kit.send(reply, 403, federationErrorPage(`${name} did not sign you in`, cancelled ? `The sign-in at ${name} was cancelled or refused.` : `${name} refused the sign-in (${error.check ?? 'error'}). Start again from the sign-in page.`, uid && back(uid)));
    }
    return kit.send(reply, 400, federationErrorPage('Sign-in refused', `The answer from ${name} failed a security check and was not accepted. Start again from the sign-in page.`, uid && back(uid)));
  }

  async function refuse(request: FastifyRequest, reply: FastifyReply, error: FederationError, uid: string | undefined): Promise<FastifyReply> {
    // The message only: the causes may carry the provider's answer (an ID token, a code).
    request.log.warn({ provider: error.provider, reason: error.reason, check: error.check, detail: error.message }, 'sign-in through identity provider failed');
    await federation.accounts.recordFailure({ provider: error.provider, reason: `federation_${error.reason}`, check: error.check, ip: request.ip });
    return failurePage(reply, error, uid);
  }

  /** The verified identity of this interaction (set by the callback), or the "expired" page. */
  function identityOf(request: FastifyRequest, uid: string): ExternalIdentity {
    const saved = cookies.get<IdentityCookie>(request, IDENTITY_COOKIE);
    if (!saved || saved.uid !== uid) throw kit.expired();
    return saved.identity;
  }

  async function signIn(request: FastifyRequest, reply: FastifyReply, provider: Provider, uid: string, user: User, identity: ExternalIdentity): Promise<FastifyReply> {
    cookies.clear(reply, IDENTITY_COOKIE, back(uid));
    await federation.accounts.recordLogin(user, identity, request.ip);
    return kit.finish(request, reply, provider, { login: { accountId: user.id } });
  }

  function choicePage(details: Details, identity: ExternalIdentity, options: { canCreate: boolean; status?: number; message?: string; username?: string; note?: string }, reply: FastifyReply): FastifyReply {
    const base = `${INTERACTION_PREFIX}/${details.uid}/federation`;
    return kit.send(reply, options.status ?? 200, firstSignInPage({
      providerName: nameOf(identity.provider),
      externalLabel: identity.username ?? identity.email,
      csrf: csrfToken(cookieKeys, details.uid),
      createAction: `${base}/create`,
      linkAction: `${base}/link`,
      backHref: back(details.uid),
      canCreate: options.canCreate,
      ...(options.message ? { message: options.message } : {}),
      ...(options.note ? { note: options.note } : {}),
      ...(options.username ? { username: options.username } : {}),
    }), details);
  }

  const canCreate = (identity: ExternalIdentity, emailInUse: boolean) => identity.email !== undefined && !emailInUse;
  const noteFor = (identity: ExternalIdentity, emailInUse: boolean) => (emailInUse ? REFUSALS.email_in_use : identity.email === undefined ? REFUSALS.email_missing : undefined);

  scope.get(`${INTERACTION_PREFIX}/:uid/federation/:provider`, async (request, reply) => {
    const { details, uid } = await kit.load(request, reply);
    if (details.prompt.name !== 'login') throw kit.expired();
    const params = providerParams.safeParse(request.params);
    const party = params.success ? federation.relyingParty(params.data.provider) : undefined;
    if (!params.success || !party) throw kit.pageError(404, 'Unknown sign-in method', 'This sign-in method is not offered. Go back and choose another.');
    const id = params.data.provider;
    try {
      const { url, flow } = await party.start(callbackUrl(id));
      cookies.set(reply, FLOW_COOKIE, '/federation/', { uid, provider: id, flow } satisfies FlowCookie, FLOW_TTL);
      return reply.code(303).header('location', url.href).send();
    } catch (error) {
      if (error instanceof FederationError) return refuse(request, reply, error, uid);
      throw error;
    }
  });

  scope.get('/federation/:provider/callback', async (request, reply) => {
    const params = providerParams.safeParse(request.params);
    const party = params.success ? federation.relyingParty(params.data.provider) : undefined;
    if (!params.success || !party) throw kit.pageError(404, 'Unknown sign-in method', 'This sign-in method is not offered.');
    const id = params.data.provider;
    const saved = cookies.get<FlowCookie>(request, FLOW_COOKIE);
    cookies.clear(reply, FLOW_COOKIE, '/federation/');
    if (!saved || saved.provider !== id) {
      // No flow of ours: expired, started in another browser, or a forged callback. Nothing is exchanged.
      return refuse(request, reply, new FederationError('invalid_response', id, 'no sign-in in progress for this provider in this browser', { check: 'flow_missing' }), undefined);
    }
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
    let identity: ExternalIdentity;
    try {
      identity = await party.finish(new URL(`${callbackUrl(id)}${query}`), saved.flow);
    } catch (error) {
      if (error instanceof FederationError) return refuse(request, reply, error, saved.uid);
      throw error;
    }
    cookies.set(reply, IDENTITY_COOKIE, back(saved.uid), { uid: saved.uid, identity } satisfies IdentityCookie, INTERACTION_TTL);
    return reply.code(303).header('location', `${back(saved.uid)}/federation`).send();
  });

  scope.get(`${INTERACTION_PREFIX}/:uid/federation`, async (request, reply) => {
    const { details, provider, uid } = await kit.load(request, reply);
    if (details.prompt.name !== 'login') throw kit.expired();
    const identity = identityOf(request, uid);
    const resolution = await federation.accounts.resolve(identity, request.ip);
    if (resolution.kind === 'linked') {
      if (resolution.user.status !== 'active') {
        await federation.accounts.recordFailure({ provider: identity.provider, reason: 'disabled', subject: resolution.user.id, ip: request.ip });
        return kit.send(reply, 403, federationErrorPage('Account disabled', 'This account is disabled. Contact your administrator.', back(uid)), details);
      }
      return signIn(request, reply, provider, uid, resolution.user, identity);
    }
    return choicePage(details, identity, { canCreate: canCreate(identity, resolution.emailInUse), note: noteFor(identity, resolution.emailInUse) }, reply);
  });

  scope.post(`${INTERACTION_PREFIX}/:uid/federation/create`, async (request, reply) => {
    const { details, provider, uid } = await kit.loadForm(request, reply, csrfForm, 'page');
    if (details.prompt.name !== 'login') throw kit.expired();
    const identity = identityOf(request, uid);
    try {
      const user = await federation.accounts.create(identity, request.ip);
      return signIn(request, reply, provider, uid, user, identity);
    } catch (error) {
      if (!(error instanceof AccountRefused)) throw error;
      await federation.accounts.recordFailure({ provider: identity.provider, reason: `account_${error.reason}`, ip: request.ip });
      return choicePage(details, identity, { canCreate: false, status: 409, message: REFUSALS[error.reason] }, reply);
    }
  });

  scope.post(FEDERATION_LINK_ROUTE, async (request, reply) => {
    const { details, provider, uid, form } = await kit.loadForm(request, reply, linkForm, 'page');
    if (details.prompt.name !== 'login') throw kit.expired();
    const identity = identityOf(request, uid);
    const again = (status: number, message: string) => choicePage(details, identity, { canCreate: false, status, message, username: form.username }, reply);
    // The account proves itself with its password, throttled like the sign-in form.
    const outcome = await authenticator.authenticate({ username: form.username, password: form.password, ip: request.ip });
    if (!outcome.ok) {
      if (outcome.reason === 'locked' || outcome.reason === 'throttled' || outcome.reason === 'busy') {
        const wait = Math.max(1, Math.ceil(outcome.retryAfter ?? 1));
        reply.header('retry-after', String(wait));
        return again(outcome.reason === 'busy' ? 503 : 429, `Too many attempts or the service is busy. Try again in ${waitInWords(wait)}.`);
      }
      if (outcome.reason === 'disabled') return again(403, 'This account is disabled. Contact your administrator.');
      return again(401, 'Incorrect username or password. Nothing was linked.');
    }
    try {
      const user = await federation.accounts.link(outcome.user.id, identity, request.ip);
      cookies.clear(reply, IDENTITY_COOKIE, back(uid));
      return kit.finish(request, reply, provider, { login: { accountId: user.id } });
    } catch (error) {
      if (!(error instanceof AccountRefused)) throw error;
      return again(409, REFUSALS[error.reason]!);
    }
  });
}
