/**
 * The API gateway's part of gatehouse.yaml: `services` (where requests go), `routes` (which
 * request needs what) and `gateway` (how the gateway runs). Validated here, once; the route
 * semantics that need more than one field at a time (overlaps, unknown services, owner params
 * absent from the path) are checked when src/gateway compiles the table, with the same
 * one-line-per-problem messages.
 */
import { z } from 'zod';
import { cidr, duration, permission, roleName } from './fields.ts';
import { scopeIncludes } from '../shared/scope.ts';

/** A service name as it appears in `services` and in SPIFFE IDs (spiffe://<td>/svc/<name>). */
export const serviceName = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a service name: lower-case letters, digits and -');

/** Methods a route may name; `*` means every method but TRACE, TRACK and CONNECT. HEAD follows GET. */
/** A redis:// or rediss:// URL, for `gateway.redis.url` and GATEHOUSE_GATEWAY_REDIS_URL alike. */
export const redisUrl = z.string().regex(/^rediss?:\/\/[^\s]+$/, 'a redis:// or rediss:// URL').refine(URL.canParse, 'a redis:// or rediss:// URL');

export const ROUTE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const scope = z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token (RFC 6749 §3.3)');

const upstreamUrl = z.url({ protocol: /^https?$/ }).refine((value) => {
  const url = new URL(value);
  return (url.pathname === '/' || url.pathname === '') && url.search === '' && url.hash === '' && url.username === '' && url.password === '';
}, 'an origin like http://127.0.0.1:9102 (no path, query or credentials): the gateway forwards the request target unchanged');

export const servicesSchema = z
  .record(serviceName, z.array(upstreamUrl).min(1))
  .default({})
  .describe('Upstream services by name: one or more instances each, called round-robin. `https://` instances are called over mutual TLS with the gateway\'s workload certificate (`gateway.identity`) and must present spiffe://<trustDomain>/svc/<name>.');

export const routeSchema = z
  .object({
    methods: z
      .array(z.union([z.enum(ROUTE_METHODS), z.literal('*')]))
      .min(1)
      .describe('HTTP methods; `*` = every method except TRACE, TRACK and CONNECT. HEAD follows GET.'),
    path: z
      .string()
      .regex(/^\/([A-Za-z0-9._~!$&'()+,=@-]+|:[A-Za-z_][A-Za-z0-9_]*|\*\*)?(\/([A-Za-z0-9._~!$&'()+,=@-]+|:[A-Za-z_][A-Za-z0-9_]*|\*\*))*$/, 'a path pattern like /api/books, /api/books/:id or /api/books/** (`:name` = one segment, `**` = one or more segments, last only)')
      .describe('Path pattern: literal segments, `:name` matches one segment, `**` (last segment only) one or more. Most specific wins: literal > `:param` > `**`, segment by segment.'),
    service: serviceName.describe('Name of the upstream in `services`.'),
    auth: z
      .enum(['public', 'authenticated', 'passthrough'])
      .default('authenticated')
      .describe('`authenticated`: a verified access token (bearer or session cookie) is required; `public`: anonymous calls pass and no token is forwarded; `passthrough`: the gateway authenticates nothing and forwards the client\'s Authorization header unchanged (for upstreams that authenticate clients themselves, like the Security Service\'s OAuth endpoints).'),
    permissions: z.array(permission).default([]).describe('Every one is required, checked against the published roles → permissions policy (`orders:*` covers `orders:create`).'),
    roles: z.array(roleName).default([]).describe('The caller must hold at least one of these roles.'),
    scopes: z.array(scope).default([]).describe('Every one must be in the token\'s `scope`; missing → 403 insufficient_scope.'),
    owner: z
      .string()
      .regex(/^params\.[A-Za-z_][A-Za-z0-9_]*$/, 'params.<name> of a :name in the path')
      .optional()
      .describe('`params.<name>`: the path parameter must equal the caller\'s `sub`, unless the caller holds the route\'s permissions unconditionally (`orders:read` rather than only `orders:read:own`).'),
    allowFrom: z.array(cidr).optional().describe('Only clients from these CIDR blocks (the client address after `gateway.trustedProxies`); others get 403.'),
    rateLimit: z
      .object({
        requests: z.number().int().min(1).describe('Requests allowed per window, per caller and per client IP.'),
        per: duration('Window length.'),
      })
      .strict()
      .optional()
      .describe('Per caller (`sub`) and per client IP; past it 429 with Retry-After.'),
    timeout: duration('Upstream response timeout for this route (default `gateway.upstream.timeout`).').optional(),
    cors: z.string().optional().describe('Name of a CORS policy in `gateway.cors`.'),
  })
  .strict();

export const routesSchema = z
  .array(routeSchema)
  .default([])
  .describe('Route rules, compiled once into a matcher (docs/gateway.md). No route → 404; a route for the path but not the method → 405 with Allow. There is no implicit catch-all.');

const corsPolicy = z
  .object({
    origins: z.array(z.union([z.url(), z.literal('*')])).min(1).describe('Allowed origins (exact), or `*` (never with credentials).'),
    methods: z.array(z.enum(ROUTE_METHODS)).default(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).describe('Methods allowed in preflight.'),
    headers: z.array(z.string()).default(['authorization', 'content-type']).describe('Request headers allowed in preflight.'),
    exposeHeaders: z.array(z.string()).default([]).describe('Response headers exposed to scripts.'),
    credentials: z.boolean().default(false).describe('Allow cookies / Authorization from the browser.'),
    maxAge: duration('How long browsers may cache a preflight answer.').default(600),
  })
  .strict()
  .refine((policy) => !(policy.credentials && policy.origins.includes('*')), 'credentials cannot be combined with origin `*`');

const secretRef = (what: string, env: string) =>
  z
    .string()
    .optional()
    .describe(`File holding the ${what} (mode 0600). Env ${env} wins. Never put the secret itself in this file.`);

export const gatewaySchema = z
  .object({
    listen: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address the gateway binds to.'),
        port: z.number().int().min(0).max(65535).default(8000).describe('Port of the gateway (0 picks a free port). Env GATEHOUSE_GATEWAY_PORT.'),
      })
      .strict()
      .prefault({})
      .describe('Where the gateway listens.'),
    publicUrl: z
      .url({ protocol: /^https?$/ })
      .refine((value) => { const url = new URL(value); return url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '' && url.password === ''; }, 'an origin like https://shop.example (no path, query or credentials)')
      .optional()
      .describe('Origin browsers use to reach the gateway (sign-in redirect URI, cookie scope, Origin checks); https makes the session cookie `__Host-` + Secure. Default http://localhost:<listen.port>.'),
    securityService: z
      .url()
      .optional()
      .describe('Internal base URL where the gateway reaches the Security Service (discovery, JWKS, /policy, /events/stream, token endpoint). Default: the issuer. Tokens are still checked against `issuer`.'),
    audience: z.string().optional().describe('The `aud` access tokens must carry to pass the gateway. Default: the first of `resources`.'),
    routesFile: z.string().optional().describe('A YAML file with a `routes:` list, added to `routes` (path relative to this file). Reloaded on change and on SIGHUP; a bad file is refused and the old rules stay.'),
    trustedProxies: z.array(cidr).default([]).describe('Proxies in front of the gateway whose X-Forwarded-For is believed: the client is the right-most address that is not one of them.'),
    clockTolerance: duration('Leeway on exp/nbf/iat of access tokens, for clock skew.').default(5),
    maxTokenAge: duration('Longest accepted access-token lifetime (exp − iat) and age.').default(86400),
    maxTokenBytes: z.number().int().min(512).max(65536).default(8192).describe('Longer bearer tokens are refused without parsing.'),
    tokenCacheSize: z.number().int().min(0).default(10000).describe('Verified tokens kept (until they expire or are revoked) so each is verified once; 0 disables the cache.'),
    jwksCooldown: duration('Least time between JWKS fetches caused by an unknown kid.').default(30),
    credentials: z
      .object({
        clientId: z.string().min(1).describe('A client_credentials client with scope `events:read` (the event stream), and `tokens:exchange` to accept personal API tokens.'),
        secretFile: secretRef('client secret', 'GATEHOUSE_GATEWAY_CLIENT_SECRET'),
      })
      .strict()
      .optional()
      .describe('The gateway\'s service credential: it subscribes to the security-event stream (revocations, policy changes) with it. Without it the gateway cannot learn of revocations and /readyz fails.'),
    apiTokens: z
      .object({
        enabled: z.boolean().default(true).describe('Accept personal API tokens (`Authorization: Bearer gth_…`, or Basic with a gth_… password) and exchange them for access tokens. Needs `gateway.credentials` with a client that has scope `tokens:exchange`.'),
        cacheSize: z.number().int().min(0).default(10000).describe('Exchanged access tokens kept, keyed by the SHA-256 digest of the API token (never the token); 0 exchanges on every request.'),
        refreshBefore: duration('Exchange again in the background this long before the exchanged access token expires (at most half its lifetime).').default(30),
        negativeCacheTtl: duration('How long a token the Security Service refused is refused without asking again (blunts floods of one bad token; a new token is never affected). 0 = never.').default(5),
      })
      .strict()
      .prefault({})
      .describe('Personal API tokens at the gateway: each is exchanged once at the Security Service (RFC 8693) for a short-lived access token that the gateway caches and forwards, so services only ever see JWTs (docs/api-tokens-gateway.md).'),
    sso: z
      .object({
        clientId: z.string().min(1).describe('A first-party authorization_code client whose redirect URI is <publicUrl>/login/callback.'),
        secretFile: secretRef('client secret', 'GATEHOUSE_GATEWAY_SSO_SECRET'),
        scope: z.string().refine((value) => scopeIncludes(value, 'openid'), 'must include openid').default('openid profile email offline_access').describe('Scopes asked for at sign-in (`openid` required; without `offline_access` there is no refresh token and a session ends with its access token).'),
        cookieName: z.string().regex(/^[A-Za-z0-9_-]+$/).default('gatehouse_session').describe('Session cookie name; `__Host-` is prepended on https.'),
        cookieKeyFile: secretRef('cookie encryption key (32 random bytes, base64; several, comma-separated or one per line, current first, during a key rotation)', 'GATEHOUSE_GATEWAY_COOKIE_KEY'),
        sessionTtl: duration('Longest a browser session lasts without a new sign-in (the refresh token may end it earlier).').default(86400),
        refreshBefore: duration('Refresh the access token this long before it expires.').default(60),
        postLogoutPath: z.string().regex(/^\/[^/\\]/).or(z.literal('/')).default('/').describe('Where /logout ends; <publicUrl><postLogoutPath> must be a post-logout redirect URI of the client.'),
      })
      .strict()
      .optional()
      .describe('Browser single sign-on: the gateway is an OIDC relying party of the Security Service and keeps the tokens in an encrypted HttpOnly cookie (no server-side session store). Unset: no /login, and browsers get 401 like other clients.'),
    identity: z
      .object({
        caUrl: z.url().describe('https URL of the CA TLS listener (enrollment and renewal).'),
        service: serviceName.default('gateway').describe('The gateway\'s service name: its certificate is spiffe://<trustDomain>/svc/<service>.'),
        joinTokenFile: secretRef('join token', 'GATEHOUSE_GATEWAY_JOIN_TOKEN'),
      })
      .strict()
      .optional()
      .describe('The gateway\'s workload identity for `https://` services (mutual TLS). Required when any service is https.'),
    upstream: z
      .object({
        timeout: duration('Time to wait for an upstream\'s response headers before answering 504.').default(30),
        connectTimeout: duration('Time to wait for a connection to an instance.').default(5),
        connections: z.number().int().min(1).default(128).describe('Kept-alive connections per instance.'),
        ejectAfter: z.number().int().min(1).default(3).describe('Consecutive connection failures after which an instance is taken out of rotation.'),
        ejectFor: duration('How long an ejected instance stays out of rotation.').default(30),
      })
      .strict()
      .prefault({})
      .describe('Calls to upstream services.'),
    redis: z
      .object({
        url: redisUrl
          .optional()
          .describe('redis://[user:password@]host:port[/db], or rediss:// for TLS. Env GATEHOUSE_GATEWAY_REDIS_URL wins (keep a password there rather than in this file). Unset: replicas share nothing.'),
        keyPrefix: z.string().min(1).max(100).default('gatehouse:gateway:').describe('Prefix of every key the gateway writes (several gateway deployments may share one Redis with different prefixes).'),
        timeoutMs: z.number().int().min(1).max(5000).default(50).describe('Longest wait for a Redis answer, milliseconds: without one the replica does without (counts the request alone, refreshes a session itself).'),
      })
      .strict()
      .prefault({})
      .describe('State shared by the gateway\'s replicas: rate-limit counters (N replicas allow a route\'s `rateLimit` once, not N times) and browser-session refreshes in flight (parallel requests of one browser on two replicas refresh once). When Redis is down or slow each replica does both alone until it answers.'),
    bodyLimit: z.number().int().min(0).default(10 * 1024 * 1024).describe('Largest request body forwarded, bytes (413 beyond).'),
    maxTargetLength: z.number().int().min(256).max(65536).default(8192).describe('Longest request target (path + query), bytes (414 beyond).'),
    cors: z.record(z.string().regex(/^[a-z0-9_-]+$/), corsPolicy).default({}).describe('Named CORS policies that routes refer to with `cors: <name>`.'),
    shutdownTimeout: duration('On a stop (SIGTERM, SIGINT), how long in-flight requests get to finish before their connections are cut.').default(10),
    accessLog: z.boolean().default(true).describe('One log line per request: request id, route, sub, decision, status, latency (never a token).'),
    metricsAllowFrom: z.array(cidr).default(['127.0.0.0/8', '::1/128']).describe('Clients allowed to read /metrics.'),
  })
  .strict()
  .prefault({})
  .describe('The API gateway (`gatehouse serve gateway`): verifies every request locally, enforces `routes`, forwards to `services`.');
