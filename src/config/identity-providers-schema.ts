/**
 * `identityProviders:` — external identity providers a user may sign in with (Gatehouse is then
 * their OAuth/OIDC client). OpenID Connect providers are found by their issuer (discovery);
 * plain OAuth 2.0 providers (GitHub-style) name their endpoints and which userinfo members hold
 * the subject, username and e-mail. Client secrets never go in the file: an env variable or a
 * 0600 file (see docs/identity-providers.md).
 */
import { z } from 'zod';
import { duration, roleName } from './fields.ts';

export const providerId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'an id like github or corp-sso: lower-case letters, digits and -, at most 32 characters')
  .describe('Stable id used in URLs (/federation/<id>/callback) and as the provider half of every linked identity: never change it once users have linked.');

/** https, or http to this machine only (development and tests): a provider's answers decide who signs in. */
const providerUrl = z.url({ protocol: /^https?$/ }).refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}, 'an https URL (http only for localhost, 127.0.0.1 or [::1])');

const roleRule = z
  .object({
    claim: z.string().min(1).max(200).describe('Claim (ID token or userinfo member) tested; a dotted path (realm_access.roles) reaches nested members.'),
    equals: z.union([z.string(), z.number(), z.boolean()]).optional().describe('The claim must equal this value.'),
    contains: z.string().optional().describe('The claim must be a list holding this value (or a space-separated string holding this word).'),
    role: roleName.describe('The Gatehouse role given when the rule matches: one of `roles:`.'),
  })
  .strict()
  .refine((rule) => (rule.equals === undefined) !== (rule.contains === undefined), 'a role rule needs exactly one of `equals` and `contains`');

const claimMapping = (defaults: { subject: string; username: string; email: string }) =>
  z
    .object({
      subject: z.string().min(1).default(defaults.subject).describe('Member holding the stable user id at the provider (never an e-mail).'),
      username: z.string().min(1).default(defaults.username).describe('Member holding the suggested username of a new account.'),
      email: z.string().min(1).default(defaults.email).describe('Member holding the e-mail address of a new account.'),
    })
    .strict()
    .prefault({});

const common = {
  id: providerId,
  name: z.string().min(1).max(64).describe('Shown on the sign-in button: "Sign in with <name>".'),
  clientId: z.string().min(1).describe('Our client id at the provider. Register <issuer>/federation/<id>/callback there as the redirect URI.'),
  clientSecretFile: z.string().optional().describe('File (mode 0600, relative to gatehouse.yaml) holding our client secret. Env GATEHOUSE_IDP_<ID>_CLIENT_SECRET (id upper-cased, - as _) wins. Neither: a public client (PKCE only).'),
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).default('client_secret_basic').describe('How the client secret is sent to the token endpoint.'),
  timeout: duration('Longest wait for each request to the provider (discovery, token, JWKS, userinfo); past it the button fails with a page saying so.').default(5),
  roles: z.array(roleRule).default([]).describe('Rules giving Gatehouse roles from the provider\'s claims, e.g. `{ claim: groups, contains: admins, role: staff }`.'),
};

const oidcProvider = z
  .object({
    type: z.literal('oidc'),
    ...common,
    issuer: providerUrl.describe('The provider\'s issuer; its /.well-known/openid-configuration is read on first use (and retried after a failure).'),
    scopes: z.array(z.string().min(1)).default(['openid', 'profile', 'email']).describe('Scopes asked for (must include openid).'),
    claims: claimMapping({ subject: 'sub', username: 'preferred_username', email: 'email' }).describe('ID token / userinfo claims read (`sub` is always the subject of an OIDC provider).'),
  })
  .strict()
  .refine((p) => p.scopes.includes('openid'), { path: ['scopes'], message: 'an OpenID Connect provider needs the openid scope' });

const oauth2Provider = z
  .object({
    type: z.literal('oauth2'),
    ...common,
    issuer: providerUrl.optional().describe('The provider\'s issuer identifier, checked against an `iss` in its authorization response (RFC 9207). Default: the origin of authorizationEndpoint.'),
    authorizationEndpoint: providerUrl.describe('Authorization endpoint.'),
    tokenEndpoint: providerUrl.describe('Token endpoint.'),
    userinfoEndpoint: providerUrl.describe('Endpoint answering the signed-in user as JSON (GitHub: https://api.github.com/user).'),
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes asked for.'),
    claims: claimMapping({ subject: 'id', username: 'login', email: 'email' }).describe('Members of the userinfo JSON read (defaults: GitHub\'s).'),
  })
  .strict();

export const identityProvidersSchema = z
  .array(z.discriminatedUnion('type', [oidcProvider, oauth2Provider]))
  .default([])
  .superRefine((providers, ctx) => {
    const seen = new Set<string>();
    providers.forEach((provider, index) => {
      if (seen.has(provider.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate identity provider id ${JSON.stringify(provider.id)}` });
      seen.add(provider.id);
    });
  })
  .describe('External identity providers shown as "Sign in with …" buttons (docs/identity-providers.md). Each: `id`, `name`, `type` (`oidc`: `issuer`; `oauth2`: `authorizationEndpoint`, `tokenEndpoint`, `userinfoEndpoint`, `claims`), `clientId`, `clientSecretFile`, `scopes`, `timeout` (default 5s), `roles` rules.');

export type IdentityProviderConfig = z.output<typeof identityProvidersSchema>[number];
export type RoleRule = z.output<typeof roleRule>;
