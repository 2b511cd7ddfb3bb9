/**
 * CORS policies (`gateway.cors`), compiled once: a route names one with `cors: <name>`. The
 * gateway answers preflights for such routes itself and adds the response headers to actual
 * requests; it only ever echoes an Origin that the policy lists exactly (or `*` without
 * credentials), never an arbitrary one. Upstream `Access-Control-*` headers are replaced on
 * routes with a policy, so the policy is the one source of truth.
 */
import type { Config } from '../config/index.ts';

export interface CorsPolicy {
  readonly name: string;
  /** The value for Access-Control-Allow-Origin, or undefined when `origin` is not allowed. */
  allowOrigin(origin: string): string | undefined;
  allowsMethod(method: string): boolean;
  /** Headers a preflight answer adds to those of `responseHeaders`. */
  readonly preflightHeaders: readonly string[];
  /** Headers added to an actual response from an allowed origin (after Access-Control-Allow-Origin; `Vary: Origin` is always added). */
  readonly responseHeaders: readonly string[];
}

type CorsConfig = Config['gateway']['cors'][string];

export function compileCorsPolicy(name: string, policy: CorsConfig): CorsPolicy {
  const any = policy.origins.includes('*');
  // Origin is scheme://host[:port], without a path: compare against the normalized origin.
  const origins = new Set(policy.origins.filter((o) => o !== '*').map((o) => new URL(o).origin));
  const methods = new Set(policy.methods);
  const credentials = policy.credentials ? ['access-control-allow-credentials', 'true'] : [];
  return {
    name,
    allowOrigin: (origin) => (origins.has(origin) ? origin : any ? '*' : undefined),
    allowsMethod: (method) => methods.has(method as never),
    preflightHeaders: [
      'access-control-allow-methods', policy.methods.join(', '),
      'access-control-allow-headers', policy.headers.join(', '),
      'access-control-max-age', String(policy.maxAge),
      'vary', 'Access-Control-Request-Method, Access-Control-Request-Headers',
    ],
    responseHeaders: [
      ...(policy.exposeHeaders.length > 0 ? ['access-control-expose-headers', policy.exposeHeaders.join(', ')] : []),
      ...credentials,
    ],
  };
}

export function compileCorsPolicies(policies: Config['gateway']['cors']): ReadonlyMap<string, CorsPolicy> {
  return new Map(Object.entries(policies).map(([name, policy]) => [name, compileCorsPolicy(name, policy)]));
}
