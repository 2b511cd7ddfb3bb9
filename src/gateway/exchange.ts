/**
 * The values the pipeline works on: one `Exchange` per request (everything a stage learned so
 * far), and the `GatewayState` every stage reads (built at start, the route part swapped on
 * reload). Stages are plain functions `(exchange, state) → Outcome` (./pipeline.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../shared/logger.ts';
import type { GatehouseError } from '../shared/errors.ts';
import type { CidrList } from '../shared/client-address.ts';
import type { Identity, Verifier } from '../sdk/index.ts';
import type { CompiledRoute, RouteTable } from './routes/index.ts';
import type { RequestHead } from './request-head.ts';
import type { CorsPolicy } from './cors.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { Upstreams, Upstream } from './upstreams.ts';
import type { GatewayMetrics, RouteMetrics } from './metrics.ts';
import type { Authenticator, SessionSupport } from './authenticators.ts';
import type { AccessLog } from './access-log.ts';

/** What a stage answers: go on (undefined), stop with a coded error, or "I already answered". */
export type Outcome = undefined | GatehouseError | typeof ANSWERED;
export const ANSWERED = Symbol('answered');

export type Stage = (exchange: Exchange, state: GatewayState) => Outcome | Promise<Outcome>;

/** Why a request was refused, for the access log and `gatehouse_gateway_denials_total`. */
export type DenialReason =
  | 'malformed' | 'not_found' | 'method_not_allowed' | 'cors' | 'address' | 'rate_limit_address' | 'rate_limit_caller'
  | 'body_too_large' | 'no_token' | 'invalid_token' | 'cross_origin' | 'missing_role' | 'missing_scope' | 'not_granted' | 'not_owner' | 'not_ready';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** performance.now() at arrival. */
  readonly startedAt: number;
  /** The socket peer (IPv4-mapped addresses unwrapped). */
  readonly peer: string;
  /** The client: the peer, or the right-most untrusted X-Forwarded-For hop from a trusted proxy. */
  client: string;
  trustedPeer: boolean;
  head: RequestHead | undefined;
  requestId: string | undefined;
  traceparent: string | undefined;
  /** The normalized path, its decoded segments and the query ('' or '?…'), from ./request-target.ts. */
  path: string;
  segments: readonly string[];
  query: string;
  route: CompiledRoute | undefined;
  routeState: RouteState | undefined;
  params: Readonly<Record<string, string>>;
  /** The allowed `Access-Control-Allow-Origin` for this request's Origin, when its route has a CORS policy. */
  corsOrigin: string | undefined;
  /** Where the access token came from, once authenticated. */
  tokenSource: Authenticator['name'] | undefined;
  token: string | undefined;
  caller: Identity | undefined;
  /** `allow`, or why the request was refused. */
  decision: 'allow' | DenialReason | 'upstream_error' | 'error';
  /** The instance the request went to (access log). */
  instance: string | undefined;
  /** Answer with `Connection: close` and drop whatever is pipelined behind this request. */
  closeConnection: boolean;
  /** The client sent `Expect: 100-continue`: it waits for `100 Continue`, sent only when the request is forwarded. */
  expectContinue: boolean;
}

/** Everything the pipeline needs per route, built once per route table (./route-state.ts). */
export interface RouteState {
  readonly route: CompiledRoute;
  /** `GET,HEAD /api/books/:id`: the route's name in metrics and the access log. */
  readonly label: string;
  /** `label` as a JSON string, for the access log. */
  readonly labelJson: string;
  readonly upstream: Upstream;
  readonly timeoutMs: number;
  readonly cors: CorsPolicy | undefined;
  readonly limitCaller: RateLimiter | undefined;
  readonly limitAddress: RateLimiter | undefined;
  readonly metrics: RouteMetrics;
  /** Add Strict-Transport-Security to relayed responses. */
  readonly hsts: boolean;
}

export interface GatewayState {
  readonly logger: Logger;
  /** Access-log lines go here (undefined: `gateway.accessLog: false`). */
  readonly accessLog: AccessLog | undefined;
  readonly verifier: Verifier;
  readonly upstreams: Upstreams;
  readonly metrics: GatewayMetrics;
  readonly trustedProxies: CidrList;
  readonly metricsAllowFrom: CidrList;
  readonly authenticators: readonly Authenticator[];
  readonly session: SessionSupport | undefined;
  /** Gateway-owned paths (/healthz, /readyz, /metrics, the sign-in paths): answered before routing. */
  readonly owned: ReadonlyMap<string, Stage>;
  readonly bodyLimit: number;
  readonly maxTargetLength: number;
  /** `Strict-Transport-Security` on every response (publicUrl is https). */
  readonly hsts: boolean;
  /** The current routes; swapped whole on reload. */
  table: RouteTable;
  routes: ReadonlyMap<CompiledRoute, RouteState>;
  /** Names of dependencies that are not ready (/readyz). */
  notReady(): string[];
}
