/** The compiled route table's vocabulary: what the gateway's pipeline stages read. */
import type { z } from 'zod';
import type { routeSchema } from '../../config/gateway-schema.ts';
import type { CidrList } from '../../shared/client-address.ts';

/** One rule as gatehouse.yaml or the routes file holds it, after schema validation. */
export type RouteConfig = z.output<typeof routeSchema>;

export interface CompiledRoute {
  id: number;
  /** Where the rule was written: `gatehouse.yaml routes[3]`, `routes.yaml routes[0]`. */
  source: string;
  pattern: string;
  /** As written; `*` is expanded to the methods a route may name (any other token method still matches, see `anyMethod`). */
  methods: readonly string[];
  /** The rule said `*`: every method except TRACE, TRACK and CONNECT. */
  anyMethod: boolean;
  service: string;
  auth: 'public' | 'authenticated' | 'passthrough';
  permissions: readonly string[];
  roles: readonly string[];
  scopes: readonly string[];
  /** The path parameter that must equal the caller's `sub` (the `x` of `owner: params.x`). */
  owner: string | undefined;
  allowFrom: CidrList | undefined;
  /** `per` in seconds. */
  rateLimit: { requests: number; per: number } | undefined;
  /** Seconds. */
  timeout: number | undefined;
  cors: string | undefined;
}

export type RouteMatch =
  | { kind: 'route'; route: CompiledRoute; params: Readonly<Record<string, string>> }
  /** `allow` is the Allow header's list (HEAD included when GET is). */
  | { kind: 'method_not_allowed'; allow: readonly string[] }
  | { kind: 'not_found' };

export interface RouteTable {
  readonly routes: readonly CompiledRoute[];
  /** The hot path: no allocation beyond `params`, no regular expression. `segments` are decoded. */
  match(method: string, segments: readonly string[]): RouteMatch;
  /** Human lines for `gatehouse routes explain`. */
  explain(method: string, rawTarget: string, maxLength?: number): string[];
}

/** Every problem of a route set, one line each naming the source and the key path. */
export class RouteLoadError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.length === 1 ? problems[0] : `${problems.length} problems in routes: ${problems.join('; ')}`);
    this.name = 'RouteLoadError';
    this.problems = problems;
  }
}
