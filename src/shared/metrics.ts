import { Registry, Histogram, collectDefaultMetrics, Counter, Gauge } from 'prom-client';

/** One registry per service instance (tests start several in one process). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  counter(name: string, help: string, labelNames?: string[]): Counter<string>;
  gauge(name: string, help: string, labelNames?: string[]): Gauge<string>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'gatehouse_' });
  const httpDuration = new Histogram({
    name: 'gatehouse_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const counters = new Map<string, Counter<string>>();
  const gauges = new Map<string, Gauge<string>>();
  return {
    registry,
    httpDuration,
    counter(name, help, labelNames = []) {
      let metric = counters.get(name);
      if (!metric) {
        metric = new Counter({ name, help, labelNames, registers: [registry] });
        counters.set(name, metric);
      }
      return metric;
    },
    gauge(name, help, labelNames = []) {
      let metric = gauges.get(name);
      if (!metric) {
        metric = new Gauge({ name, help, labelNames, registers: [registry] });
        gauges.set(name, metric);
      }
      return metric;
    },
  };
}
