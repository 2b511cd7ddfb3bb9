/**
 * The gateway's Prometheus metrics. Label children are bound once (per route, per status seen,
 * per denial reason, per upstream): the request path does a Map lookup by number at most, never
 * a `labels({...})` lookup by object.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { createMetrics, type Metrics } from '../shared/metrics.ts';
import type { DenialReason } from './exchange.ts';

type CounterChild = ReturnType<Counter<string>['labels']>;
type HistogramChild = ReturnType<Histogram<string>['labels']>;

export interface RouteMetrics {
  /** One finished request of this route: its status and duration in seconds. */
  observe(status: number, seconds: number): void;
}

export type UpstreamErrorKind = 'connect' | 'reset' | 'timeout' | 'tls';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly base: Metrics;
  /** The metrics of a route label (`<METHODS> <path>` of the route), bound on first use and kept across reloads. */
  route(label: string): RouteMetrics;
  /** Requests that matched no route (404/405) or failed before routing. */
  readonly unmatched: RouteMetrics;
  /** Requests to gateway-owned paths (/healthz, /readyz, /metrics, sign-in). */
  readonly owned: RouteMetrics;
  denied(reason: DenialReason): void;
  upstreamError(service: string, kind: UpstreamErrorKind): void;
  ejected(service: string): void;
  /** Exposes the verifier's cache counters (read at scrape time, nothing per request). */
  countTokenCache(stats: () => { cacheHits: number; cacheMisses: number }): void;
}

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createGatewayMetrics(options: { defaultMetrics?: boolean } = {}): GatewayMetrics {
  const base = createMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  const registers = [base.registry];
  const requests = new Counter({ name: 'gatehouse_gateway_requests_total', help: 'Requests answered by the gateway, by route and status', labelNames: ['route', 'status'], registers });
  const duration = new Histogram({ name: 'gatehouse_gateway_request_duration_seconds', help: 'Time from request arrival to the end of the response, by route', labelNames: ['route'], buckets: BUCKETS, registers });
  const denials = new Counter({ name: 'gatehouse_gateway_denials_total', help: 'Requests the gateway refused, by reason', labelNames: ['reason'], registers });
  const upstreamErrors = new Counter({ name: 'gatehouse_gateway_upstream_errors_total', help: 'Failed upstream calls, by service and kind (connect, reset, timeout, tls)', labelNames: ['service', 'kind'], registers });
  const ejections = new Counter({ name: 'gatehouse_gateway_upstream_ejections_total', help: 'Upstream instances taken out of rotation after consecutive connection failures', labelNames: ['service'], registers });

  const routeMetrics = (label: string): RouteMetrics => {
    const statuses = new Map<number, CounterChild>();
    const latency: HistogramChild = duration.labels(label);
    return {
      observe(status, seconds) {
        let child = statuses.get(status);
        if (child === undefined) {
          child = requests.labels(label, String(status));
          statuses.set(status, child);
        }
        child.inc();
        latency.observe(seconds);
      },
    };
  };
  const routes = new Map<string, RouteMetrics>();
  const denialChildren = new Map<string, CounterChild>();
  const upstreamChildren = new Map<string, CounterChild>();
  const ejectionChildren = new Map<string, CounterChild>();
  const bound = (map: Map<string, CounterChild>, key: string, make: () => CounterChild) => {
    let child = map.get(key);
    if (child === undefined) {
      child = make();
      map.set(key, child);
    }
    return child;
  };

  return {
    registry: base.registry,
    base,
    route(label) {
      let metrics = routes.get(label);
      if (metrics === undefined) {
        metrics = routeMetrics(label);
        routes.set(label, metrics);
      }
      return metrics;
    },
    unmatched: routeMetrics('(unmatched)'),
    owned: routeMetrics('(gateway)'),
    denied: (reason) => bound(denialChildren, reason, () => denials.labels(reason)).inc(),
    upstreamError: (service, kind) => bound(upstreamChildren, `${service} ${kind}`, () => upstreamErrors.labels(service, kind)).inc(),
    ejected: (service) => bound(ejectionChildren, service, () => ejections.labels(service)).inc(),
    countTokenCache(stats) {
      let seen = { cacheHits: 0, cacheMisses: 0 };
      // Registered with the registry; nothing holds it otherwise.
      new Counter({
        name: 'gatehouse_gateway_token_cache_lookups_total',
        help: 'Access tokens looked up in the verified-token cache: hit (no signature check) or miss (verified now)',
        labelNames: ['result'],
        registers,
        collect() {
          const now = stats();
          this.labels('hit').inc(now.cacheHits - seen.cacheHits);
          this.labels('miss').inc(now.cacheMisses - seen.cacheMisses);
          seen = now;
        },
      });
    },
  };
}
