/**
 * gatehouse.yaml — the schema IS the configuration reference.
 *
 * Every key carries its default and a description here; docs/configuration.md is generated from
 * this file by `gatehouse config docs` and a test checks they agree. Validation happens once at
 * start (./load.ts); the rest of the code trusts the typed `Config` value.
 */
import { z } from 'zod';
import { parseDuration } from '../shared/clock.ts';
import { cidr, duration, permission, roleName } from './fields.ts';
import { gatewaySchema, servicesSchema, routesSchema } from './gateway-schema.ts';
import { identityProvidersSchema } from './identity-providers-schema.ts';

/** Keys that were removed, with what replaces them: a file that still sets one is told. */
const REPLACED_KEYS: Record<string, string> = {
  'http.trustProxy': 'replaced by http.trustedProxies, a list of proxy CIDR blocks (e.g. [127.0.0.1/32]) whose X-Forwarded-For is believed',
};

function unrecognizedKeys(section: string, keys: readonly string[]): string {
  const named = keys.map((key) => {
    const instead = REPLACED_KEYS[`${section}.${key}`];
    return instead === undefined ? `"${key}"` : `"${key}" (${instead})`;
  });
  return `Unrecognized key${keys.length > 1 ? 's' : ''}: ${named.join(', ')}`;
}

export const configSchema = z
  .object({
    issuer: z
      .url()
      .optional()
      .meta({ computedDefault: '"http://localhost:<listen.port>"' })
      .describe('Public origin of the Security Service; the OIDC issuer identifier. Discovery is at <issuer>/.well-known/openid-configuration. Must be https in production. Default: http://localhost:<listen.port>, so moving the port moves the issuer; set it when clients reach the service through a proxy or gateway at another origin. Env GATEHOUSE_ISSUER.'),
    listen: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address the HTTP listener binds to.'),
        port: z.number().int().min(0).max(65535).default(8080).describe('Port of the HTTP listener (0 picks a free port; then set `issuer`). Env GATEHOUSE_PORT, flag --port.'),
        tlsPort: z.number().int().min(0).max(65535).default(8443).describe('Port of the TLS listener for /pki/enroll and /pki/renew (mTLS). Its certificate comes from the internal CA.'),
      })
      .strict()
      .prefault({})
      .describe('Where the Security Service listens.'),
    dataDir: z.string().default('./.gatehouse').describe('Directory for the embedded SQLite database and generated secrets: created 0700 (an existing one is restricted to 0700 at start), database files 0600; a master.key / cookie.key readable by group or others stops the start (chmod 600 it). Env GATEHOUSE_DATA_DIR, flag --data-dir.'),
    database: z
      .object({
        url: z
          .string()
          .optional()
          .describe('postgres://… to use PostgreSQL (required for more than one instance). Unset: SQLite in <dataDir>/gatehouse.db. Env GATEHOUSE_DATABASE_URL.'),
        poolSize: z.number().int().min(1).max(100).default(10).describe('PostgreSQL connection pool size.'),
      })
      .strict()
      .prefault({})
      .describe('The store.'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Minimum log level.'),
        pretty: z.boolean().optional().describe('Human-readable logs; default: when stdout is a terminal. Otherwise one JSON object per line.'),
      })
      .strict()
      .prefault({})
      .describe('Logging (pino).'),
    tokens: z
      .object({
        algorithm: z.enum(['ES256', 'RS256', 'EdDSA']).default('ES256').describe('Signing algorithm of access tokens, ID tokens and security event tokens.'),
        accessTokenTtl: duration('Lifetime of JWT access tokens (a client may have its own: `client add --access-token-ttl`).').default(600),
        maxAccessTokenTtl: duration('Longest access-token lifetime a client may be registered with. Retired signing keys stay published at least this long (plus 60 s).').default(3600),
        idTokenTtl: duration('Lifetime of ID tokens.').default(600),
        refreshTokenTtl: duration('Lifetime of a refresh token (each rotation issues a new one).').default(14 * 86400),
        sessionTtl: duration('Lifetime of a browser single sign-on session at the Security Service.').default(86400),
        authorizationCodeTtl: duration('Lifetime of an authorization code.').default(60),
        keyCheckInterval: duration('How often a running service looks for signing keys rotated by another process.').default(10),
        keyActivationDelay: duration('How long a `next` key must have been published in JWKS before `keys rotate` may make it sign (`--force` overrides). Relying parties refetch JWKS on an unknown kid only after a cooldown (jose createRemoteJWKSet: 30 s; the Gatehouse SDK and gateway: at most every 30 s) and a running service publishes a key rotated elsewhere within keyCheckInterval: 60 s covers both with a margin. Raise it for relying parties that cache JWKS longer.').default(60),
      })
      .strict()
      .prefault({})
      .describe('Tokens and signing keys.'),
    apiTokens: z
      .object({
        maxTtl: duration('Longest lifetime a personal API token may be created with (every token has an expiry; `token create --expires 30d`).').default(365 * 86400),
        exchangedTokenTtl: duration('Lifetime of the short-lived JWT a personal API token is exchanged for at the token endpoint (the gateway caches it this long); never beyond the API token\'s own expiry, at most tokens.maxAccessTokenTtl.').default(300),
      })
      .strict()
      .prefault({})
      .describe('Personal API tokens (docs/api-tokens.md).'),
    resources: z
      .array(
        z
          .object({
            audience: z.string().min(1).describe('Resource indicator (RFC 8707) and `aud` of access tokens for this API.'),
            scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).default([]).describe('Scopes this API accepts.'),
            descriptions: z
              .record(z.string(), z.string().trim().min(1).max(200))
              .default({})
              .describe('What each scope lets an application do, in plain words for the consent page (scope → sentence, e.g. `orders:read: Read your orders`). A scope without one is shown by its name.'),
          })
          .strict(),
      )
      .optional()
      .meta({ computedDefault: '[{"audience":"<issuer>/api","scopes":[]}]' })
      .describe('APIs (resource servers) that access tokens are issued for. The first is the default audience. Each has an `audience`, the `scopes` it accepts and optional `descriptions` (scope → plain words shown on the consent page, e.g. `orders:read: Read your orders`; a scope without one is shown by its name). Default: one API, `<issuer>/api` (derived from `issuer`), with no scopes.'),
    clients: z
      .object({
        secretRotationOverlap: z
          .union([z.number().int().min(0), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 0s, 10m or 1h')])
          .transform((value) => (typeof value === 'number' ? value : Math.round(parseDuration(value) / 1000)))
          .pipe(z.number().max(30 * 86400, 'at most 30d'))
          .default(3600)
          .describe('How long the previous secret of a client keeps working after `client rotate-secret` (which may name its own, `--overlap`), so its deployments can switch without downtime. 0 = refused at once. At most 30d.'),
      })
      .strict()
      .prefault({})
      .describe('Registered OAuth clients.'),
    oauth: z
      .object({
        dynamicRegistration: z
          .object({
            enabled: z.boolean().default(false).describe('Dynamic client registration (RFC 7591) at <issuer>/oauth2/register. Registered clients are third-party (consent page), hold no roles, use authorization_code (+ refresh_token) only and follow the redirect URI rules of `client add`.'),
            initialAccessTokenFile: z
              .string()
              .optional()
              .describe('File (mode 0600; a relative path is under dataDir) holding the initial access token a registration must present as a bearer token. Unset: open registration, anyone may register. Never put the token itself in gatehouse.yaml.'),
            scopes: z
              .array(z.string())
              .optional()
              .meta({ computedDefault: '"the OpenID scopes and every scope of resources (not the issuer\'s own)"' })
              .describe('Scopes a dynamically registered client may hold; one registering without `scope` gets all of them.'),
          })
          .strict()
          .prefault({})
          .describe('Dynamic client registration (RFC 7591). Off by default.'),
      })
      .strict()
      .prefault({})
      .describe('OAuth 2.0 / OpenID Connect protocol options.'),
    passwords: z
      .object({
        minLength: z.number().int().min(8).default(8).describe('Minimum password length (NIST 800-63B: at least 8).'),
        maxLength: z.number().int().max(1024).default(128).describe('Maximum password length.'),
        minStrength: z.number().int().min(0).max(4).default(2).describe('Minimum zxcvbn score (0–4): refuses common and guessable passwords.'),
        argon2: z
          .object({
            memory: z.number().int().min(19456).default(19456).describe('argon2id memory cost in KiB (OWASP minimum 19456).'),
            passes: z.number().int().min(2).default(2).describe('argon2id time cost (passes).'),
            parallelism: z.number().int().min(1).default(1).describe('argon2id lanes.'),
          })
          .strict()
          .prefault({})
          .describe('Hash parameters; raising them re-hashes each password at its next login.'),
        maxConcurrentHashes: z.number().int().min(1).max(64).optional().describe("argon2id hashes computed at once (sign-ins, password changes). Default: one less than the CPU cores this process may run on (at least 1): a hash holds a core for ~20 ms, and the event loop must keep one, so a login flood cannot starve token issuance (bench: npm run bench -- flood)."),
        hashNice: z.number().int().min(0).max(19).default(10).describe('How much lower than the process the hashing threads run (a nice increment; Linux, elsewhere ignored). While requests and hashes compete for a core, requests get it first, so a login flood slows sign-ins rather than token issuance; an idle core hashes at full speed. 0: the same priority as requests.'),
        hashQueue: z.number().int().min(0).max(10_000).default(32).describe('argon2id hashes that may wait for a free slot; beyond them a sign-in is answered 503 (server_busy) with Retry-After at once.'),
      })
      .strict()
      .prefault({})
      .describe('Password policy and hashing.'),
    throttle: z
      .object({
        freeAttempts: z.number().int().min(0).default(3).describe('Failed logins per account before delays start.'),
        ipFreeAttempts: z.number().int().min(0).default(20).describe('Failed logins from one client IP before delays start for that IP (higher than freeAttempts: many people may share one NAT address).'),
        baseDelay: duration('First delay after the free attempts; doubles with each further failure.').default(1),
        maxDelay: duration('Upper bound of the growing delay.').default(30),
        lockAfter: z.number().int().min(1).default(10).describe('Failed logins per account within the window that lock it temporarily.'),
        lockout: duration('How long a temporary lockout lasts.').default(900),
        window: duration('Failures older than this are forgotten.').default(3600),
        ipLockAfter: z.number().int().min(1).default(50).describe('Failed logins from one client IP within the window that block that IP temporarily.'),
      })
      .strict()
      .prefault({})
      .describe('Login throttling, per account and per client IP.'),
    roles: z
      .record(roleName, z.array(permission))
      .default({
        admin: ['*'],
        customer: ['books:read', 'orders:create', 'orders:read:own'],
        staff: ['books:read', 'books:write', 'orders:read', 'orders:update'],
      })
      .describe('Role → permissions. The Security Service publishes this policy (versioned, with an ETag) at /policy.'),
    pki: z
      .object({
        trustDomain: z.string().regex(/^[a-z0-9.-]+$/).default('gatehouse.local').describe('SPIFFE trust domain: leaf identities are spiffe://<trustDomain>/svc/<service>.'),
        leafTtl: duration('Default lifetime of a service certificate.').default(3600),
        maxLeafTtl: duration('Longest lifetime a service certificate may ask for.').default(86400),
        joinTokenTtl: duration('Default lifetime of a join token.').default(600),
        maxJoinTokenTtl: duration('Longest lifetime of a join token.').default(86400),
        crlTtl: duration('nextUpdate of published CRLs; they are re-signed at half of it.').default(3600),
        rootTtl: duration('Lifetime of a generated root CA.').default(10 * 365 * 86400),
        intermediateTtl: duration('Lifetime of a generated intermediate CA.').default(365 * 86400),
        offlineRootCrlTtl: duration('nextUpdate of the last root CRL signed before the root key goes offline (`ca init --offline-root`): re-sign it with the root key before then.').default(180 * 86400),
        caCheckInterval: duration('How often a running service re-reads the CA certificates (rotations, an offline root) changed by another process.').default(5),
        serverNames: z.array(z.string()).default(['localhost', '127.0.0.1']).describe('DNS names and IPs in the certificate of the Security Service TLS listener. Never granted to a workload.'),
        dnsSuffixes: z
          .array(z.string().toLowerCase().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/, 'a DNS suffix without leading or trailing dot, e.g. shop.svc.cluster.local'))
          .default([])
          .describe('DNS suffixes a workload certificate may carry: the credential for service `orders` may ask for `orders` and `orders.<suffix>` for each suffix listed (empty: only the bare service name).'),
        allowLoopbackNames: z.boolean().default(false).describe('Let workload certificates carry `localhost` and loopback IPs (127.0.0.0/8, ::1) — development only; names of `serverNames` stay refused.'),
        renewalGrace: z
          .union([z.number().int().min(0), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 0s, 10m or 1h')])
          .transform((value) => (typeof value === 'number' ? value : Math.round(parseDuration(value) / 1000)))
          .default(0)
          .describe('How long after its expiry a workload certificate may still be renewed over mTLS (/pki/renew only; unrevoked and issued by this CA): a workload whose CA was down across its expiry recovers without a new join token. 0 = off (step-ca: allowRenewalAfterExpiry). Every other endpoint refuses expired certificates.'),
      })
      .strict()
      .prefault({})
      .describe('Internal certificate authority.'),
    events: z
      .object({
        retention: duration('How long security events stay available to stream subscribers.').default(7 * 86400),
        heartbeat: duration('Interval of keep-alive comments on the server-sent events stream.').default(15),
      })
      .strict()
      .prefault({})
      .describe('Security event stream.'),
    deviceFlow: z
      .object({
        codeTtl: duration('Lifetime of a device code and its user code (RFC 8628): how long the user has to enter the code at /device.').default(600),
        interval: z.number().int().min(1).max(60).default(5).describe('Seconds a device must wait between two polls of the token endpoint (RFC 8628 `interval`); a faster poll is answered `slow_down` and that device code\'s interval grows by 5 s (in memory, per process).'),
        userCodeAttempts: z.number().int().min(1).default(10).describe('Wrong or malformed user codes entered at /device from one client IP (an IPv6 client by its /64) within userCodeWindow after which that IP is answered 429 at /device for userCodeBlock (in memory, per process).'),
        userCodeWindow: duration('Window in which wrong user codes from one client IP are counted.').default(300),
        userCodeBlock: duration('How long a client IP that reached userCodeAttempts is refused at /device (with Retry-After).').default(300),
      })
      .strict()
      .prefault({})
      .describe('Device authorization grant (RFC 8628): sign-in on devices without a browser, by a user code entered at /device.'),
    http: z
      .object({
        bodyLimit: z.number().int().min(1024).default(64 * 1024).describe('Largest accepted request body in bytes.'),
        shutdownTimeout: duration('On a stop (SIGTERM, SIGINT), how long in-flight requests to the Security Service (and to the CA\'s TLS listener) get to finish before their connections are cut; event streams are ended at once.').default(10),
        trustedProxies: z.array(cidr).default([]).describe('Proxies in front of the Security Service (CIDR blocks, e.g. [127.0.0.1/32] behind the gateway on the same host) whose X-Forwarded-For is believed: the client is the right-most address that is not one of them; from any other peer the header is ignored. Every per-client-IP rule (refusal limiting, login throttling, audit) uses that address; IPv6 clients are counted by /64.'),
        refusalLimit: z.number().int().min(1).default(300).describe('Refused requests (400/401/403; at the sign-in form also its 429s) from one client IP (an IPv6 client by its /64) within refusalWindow at /oauth2/token, /oauth2/introspect, /oauth2/revoke, /oauth2/register, /pki/enroll, /pki/renew, /admin/api, /events, /api-tokens/revoke and the sign-in, consent and cancel forms after which that IP is answered 429 for refusalBlock (in memory, per process; successes never count).'),
        refusalWindow: duration('Window in which refusals from one client IP are counted.').default(60),
        refusalBlock: duration('How long a client IP that reached refusalLimit is answered 429 (with Retry-After).').default(60),
      }, { error: (issue) => (issue.code === 'unrecognized_keys' ? unrecognizedKeys('http', issue.keys) : undefined) })
      .strict()
      .prefault({})
      .describe('HTTP server.'),
    identityProviders: identityProvidersSchema,
    account: z
      .object({
        enabled: z.boolean().default(true).describe('Serve the account page at /account (reach it through the gateway: a route `/account` + `/account/**` to the Security Service with `auth: authenticated`).'),
        audience: z.string().min(1).optional().describe('Audience of the session tokens the account page accepts. Default: gateway.audience, else the first resource\'s audience (what the gateway\'s browser sign-in asks for).'),
        exampleUrl: z.url().optional().describe('The URL in the curl example shown with a new personal API token. Default: the accepted audience when it is an http(s) URL, else the issuer.'),
      })
      .strict()
      .prefault({})
      .describe('The account page: profile, password, sessions, personal API tokens, connected apps, linked identities (docs/account-page.md).'),
    services: servicesSchema,
    routes: routesSchema,
    gateway: gatewaySchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.apiTokens.exchangedTokenTtl > config.tokens.maxAccessTokenTtl) {
      ctx.addIssue({ code: 'custom', path: ['apiTokens', 'exchangedTokenTtl'], message: `at most tokens.maxAccessTokenTtl (${config.tokens.maxAccessTokenTtl} s): verifiers refuse older tokens` });
    }
    if (config.issuer === undefined && config.listen.port === 0) {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'set the issuer when listen.port is 0 (a free port is known only after listening)' });
    }
    config.resources?.forEach((resource, index) => {
      for (const scope of Object.keys(resource.descriptions)) {
        if (!resource.scopes.includes(scope)) ctx.addIssue({ code: 'custom', path: ['resources', index, 'descriptions', scope], message: `describes a scope this resource does not list in \`scopes\`: ${scope}` });
      }
    });
    // A provider's role rules may only give roles that exist.
    config.identityProviders.forEach((provider, index) => {
      provider.roles.forEach((rule, ruleIndex) => {
        if (!Object.hasOwn(config.roles, rule.role)) ctx.addIssue({ code: 'custom', path: ['identityProviders', index, 'roles', ruleIndex, 'role'], message: `unknown role ${JSON.stringify(rule.role)}; known roles: ${Object.keys(config.roles).join(', ')}` });
      });
    });
  })
  // Defaults computed from other keys (zod defaults cannot see siblings): the issuer follows the
  // listener (only `listen.port` changed still gives a working issuer), the default API the issuer.
  .transform(({ issuer: configured, ...config }) => {
    const issuer = configured ?? `http://localhost:${config.listen.port}`;
    return { issuer, ...config, resources: config.resources ?? [{ audience: `${issuer.replace(/\/+$/, '')}/api`, scopes: [], descriptions: {} }] };
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
