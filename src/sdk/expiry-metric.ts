/**
 * `gatehouse_workload_certificate_expiry_seconds{service}`: ONE gauge per prom-client registry,
 * whatever the number of workload identities that report into it (prom-client throws on a
 * second metric of the same name). Each identity adds a source for its service; the gauge asks
 * every source at scrape time. Two identities of the same service report the sooner expiry.
 */
import { Gauge, type Registry } from 'prom-client';

export const EXPIRY_METRIC = 'gatehouse_workload_certificate_expiry_seconds';

type Sources = Map<string, Set<() => number>>;

// Keyed by the registry object the caller passes: the gauge lives and dies with it.
const byRegistry = new WeakMap<Registry, Sources>();

function sourcesFor(registry: Registry): Sources {
  let sources = byRegistry.get(registry);
  if (sources) return sources;
  if (registry.getSingleMetric(EXPIRY_METRIC)) throw new TypeError(`the registry already has a metric named ${EXPIRY_METRIC} that the SDK did not create`);
  const created: Sources = new Map();
  new Gauge({
    name: EXPIRY_METRIC,
    help: 'Seconds until the workload certificate expires',
    labelNames: ['service'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [service, set] of created) this.set({ service }, Math.min(...[...set].map((secondsLeft) => secondsLeft())));
    },
  });
  byRegistry.set(registry, created);
  return created;
}

/** Reports `secondsLeft()` for `service` in `registry`; returns the function that stops it. */
export function reportExpiry(registry: Registry, service: string, secondsLeft: () => number): () => void {
  const sources = sourcesFor(registry);
  const set = sources.get(service) ?? new Set();
  set.add(secondsLeft);
  sources.set(service, set);
  return () => {
    set.delete(secondsLeft);
    if (set.size === 0 && sources.get(service) === set) sources.delete(service);
  };
}
