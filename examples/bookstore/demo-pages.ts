/**
 * The pages `npm start` adds in front of the Security Service: a landing page at `/` and a
 * sign-in demo at `/demo` — a relying party (openid-client) of the Security Service itself,
 * using the first-party public client `bookstore-web` with PKCE. It shows what a service gets:
 * the verified ID token, the JWT access token's claims, the user's permissions from /policy.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { layout, escapeHtml, PAGE_HEADERS } from '../../src/oauth/index.ts';
import type { ServiceContext } from '../../src/service.ts';
import { DEMO_USERS, DEMO_WEB_CLIENT } from './seed.ts';

const FLOW_COOKIE = 'demo_flow';

function page(reply: FastifyReply, title: string, body: string, status = 200) {
  return reply.code(status).headers(PAGE_HEADERS()).send(layout(title, body, { wide: true }));
}

/** The relying party cannot reach the issuer: say where it looked and what usually fixes it. */
function unreachable(reply: FastifyReply, issuer: string, error: unknown) {
  const code = (error as { cause?: { code?: string }; code?: string }).cause?.code ?? (error as { code?: string }).code ?? 'error';
  return page(reply, 'Issuer unreachable', `<h1>The sign-in demo cannot reach the issuer</h1>
<p class="alert">Discovery at ${escapeHtml(issuer)}/.well-known/openid-configuration failed (${escapeHtml(code)}).</p>
<p>When <code>issuer</code> is set in the configuration, the Security Service must be reachable there (start the proxy or gateway in front of it); leave it unset and it follows <code>listen.port</code>.</p>`, 502);
}

const json = (value: unknown) => `<pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;

export function registerDemoPages(app: FastifyInstance, context: ServiceContext): void {
  const { issuer } = context.config;
  const redirectUri = `${issuer}/demo/callback`;
  let configuration: Promise<oidc.Configuration> | undefined;
  // Discovery over the service's own HTTP interface, the way any other relying party does it.
  const rp = () => (configuration ??= oidc.discovery(new URL(issuer), DEMO_WEB_CLIENT, undefined, oidc.None(), {
    execute: new URL(issuer).protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
  }).catch((error: unknown) => { configuration = undefined; throw error; }));

  app.get('/', async (_request, reply) => page(reply, 'Gatehouse', `
<h1>Gatehouse Security Service</h1>
<p>OpenID Connect provider, users and roles, signing keys, security events and the internal CA of this demo.</p>
<a class="button" href="/demo/signin">Try it: sign in to the Bookstore</a>
<p>Demo users: ${DEMO_USERS.map((u) => `<strong>${u.username}</strong> (${u.roles.join(', ')})`).join(', ')}. The password was printed when the demo started.</p>
<h2>Endpoints</h2>
<dl>
<dt>Discovery</dt><dd><a href="/.well-known/openid-configuration">/.well-known/openid-configuration</a></dd>
<dt>JWKS</dt><dd><a href="/.well-known/jwks.json">/.well-known/jwks.json</a></dd>
<dt>Policy</dt><dd><a href="/policy">/policy</a> (roles → permissions)</dd>
<dt>Admin API</dt><dd><a href="/admin/api/openapi.json">/admin/api/openapi.json</a></dd>
<dt>CA bundle</dt><dd><a href="/pki/bundle.pem">/pki/bundle.pem</a>, CRLs at /pki/crl/root.crl and /pki/crl/intermediate.crl</dd>
<dt>Health</dt><dd><a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></dd>
</dl>`));

  app.get('/demo/signin', async (_request, reply) => {
    let config: oidc.Configuration;
    try {
      config = await rp();
    } catch (error) {
      return unreachable(reply, issuer, error);
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      // RFC 8707: ask for an access token for the application's API (a JWT with that audience).
      resource: context.config.resources[0]!.audience,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const flow = Buffer.from(JSON.stringify({ verifier, state, nonce })).toString('base64url');
    reply.header('set-cookie', `${FLOW_COOKIE}=${flow}; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=600`);
    return reply.redirect(url.href, 303);
  });

  app.get('/demo/callback', async (request, reply) => {
    const raw = /(?:^|;\s*)demo_flow=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    reply.header('set-cookie', `${FLOW_COOKIE}=; Path=/demo; HttpOnly; SameSite=Lax; Max-Age=0`);
    if (!raw) return page(reply, 'Sign-in expired', '<h1>Sign-in expired</h1><p>Start again.</p><a class="button" href="/demo/signin">Sign in</a>', 400);
    const flow = JSON.parse(Buffer.from(raw, 'base64url').toString()) as { verifier: string; state: string; nonce: string };
    const config = await rp();
    let tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
    try {
      tokens = await oidc.authorizationCodeGrant(config, new URL(request.url, issuer), { pkceCodeVerifier: flow.verifier, expectedState: flow.state, expectedNonce: flow.nonce }, { resource: context.config.resources[0]!.audience });
    } catch (error) {
      // Cancel on the sign-in or consent page comes back as access_denied: nothing failed.
      if (error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied') {
        return page(reply, 'Sign-in cancelled', '<h1>You cancelled the sign-in</h1><p>Nothing was shared with the Bookstore.</p><a class="button" href="/demo/signin">Sign in</a><a class="button secondary" href="/">Back to the start page</a>');
      }
      const message = error instanceof oidc.ResponseBodyError || error instanceof oidc.AuthorizationResponseError ? `${error.error}: ${error.error_description ?? ''}` : 'the sign-in could not be completed';
      return page(reply, 'Sign-in failed', `<h1>Sign-in failed</h1><p class="alert">${escapeHtml(message)}</p><a class="button" href="/demo/signin">Try again</a>`, 400);
    }
    const idClaims = tokens.claims()!;
    const accessClaims = decodeJwt(tokens.access_token);
    const roles = Array.isArray(accessClaims.roles) ? (accessClaims.roles as string[]) : [];
    const logout = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: `${issuer}/` });
    return page(reply, 'Signed in', `
<h1>Signed in as ${escapeHtml(idClaims.preferred_username ?? idClaims.sub)}</h1>
<p>The Bookstore (a first-party client) received these tokens from the Security Service.</p>
<h2>Permissions from your roles</h2>
<p>${roles.map(escapeHtml).join(', ') || 'no roles'} → ${[...new Set(roles.flatMap((role) => context.policy.document.roles[role] ?? []))].map(escapeHtml).join(', ') || 'none'}</p>
<h2>Access token (JWT, <code>typ: at+jwt</code>) claims</h2>
${json(accessClaims)}
<h2>ID token claims (verified)</h2>
${json(idClaims)}
<a class="button" href="${escapeHtml(logout.href)}">Sign out</a>`);
  });
}
