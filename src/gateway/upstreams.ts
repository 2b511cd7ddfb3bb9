/**
 * The upstream services: a kept-alive undici connection pool per instance (`http://`), or the
 * SDK's mTLS agent per service (`https://`: the gateway presents its workload certificate and
 * requires spiffe://<trustDomain>/svc/<service> from the instance). Instances are called
 * round-robin; `ejectAfter` consecutive connection failures take an instance out of rotation for
 * `ejectFor`; when every instance is out, they are all tried anyway (ejection fails open, it is
 * a load-balancing hint, never an authorization decision).
 */
import { Pool, type Dispatcher } from 'undici';
import type { Logger } from '../shared/logger.ts';
import { mtlsAgent, spiffeIdFor, type WorkloadIdentity } from '../sdk/index.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface Instance {
  readonly service: string;
  /** scheme://host:port */
  readonly origin: string;
  readonly dispatcher: Dispatcher;
  /** Consecutive connection failures. */
  failures: number;
  /** Epoch ms until which the instance is out of rotation (0: in rotation). */
  ejectedUntil: number;
}

export interface Upstream {
  readonly name: string;
  readonly instances: readonly Instance[];
  /** Round-robin cursor. */
  next: number;
}

export interface UpstreamSettings {
  /** Seconds. */
  connectTimeout: number;
  connections: number;
  ejectAfter: number;
  /** Seconds. */
  ejectFor: number;
}

export interface Upstreams {
  get(service: string): Upstream | undefined;
  /** The next instance in rotation (skipping ejected ones unless all are). */
  pick(upstream: Upstream): Instance;
  /** A connection to `instance` failed. */
  failed(instance: Instance): void;
  /** `instance` answered. */
  answered(instance: Instance): void;
  close(): Promise<void>;
}

export interface UpstreamsOptions {
  services: Readonly<Record<string, readonly string[]>>;
  settings: UpstreamSettings;
  /** Required when any instance is https. */
  identity?: WorkloadIdentity | undefined;
  logger: Logger;
  metrics: GatewayMetrics;
  now?: () => number;
}

export function createUpstreams(options: UpstreamsOptions): Upstreams {
  const { settings, logger, metrics } = options;
  const now = options.now ?? Date.now;
  const ejectForMs = settings.ejectFor * 1000;
  const dispatchers: Dispatcher[] = [];
  const upstreams = new Map<string, Upstream>();

  for (const [name, urls] of Object.entries(options.services)) {
    let mtls: Dispatcher | undefined;
    const instances = urls.map((url): Instance => {
      const origin = new URL(url).origin;
      let dispatcher: Dispatcher;
      if (origin.startsWith('https:')) {
        if (options.identity === undefined) throw new TypeError(`service ${name} has an https instance but the gateway has no workload identity (gateway.identity)`);
        mtls ??= mtlsAgent(options.identity, { expect: spiffeIdFor(options.identity.trustDomain, name), connections: settings.connections });
        dispatcher = mtls;
      } else {
        dispatcher = new Pool(origin, { connections: settings.connections, pipelining: 1, connect: { timeout: settings.connectTimeout * 1000 } });
      }
      dispatchers.push(dispatcher);
      return { service: name, origin, dispatcher, failures: 0, ejectedUntil: 0 };
    });
    upstreams.set(name, { name, instances, next: 0 });
  }

  return {
    get: (service) => upstreams.get(service),
    pick(upstream) {
      const { instances } = upstream;
      const count = instances.length;
      const t = now();
      for (let tried = 0; tried < count; tried++) {
        const instance = instances[upstream.next]!;
        upstream.next = (upstream.next + 1) % count;
        if (instance.ejectedUntil <= t) return instance;
      }
      const instance = instances[upstream.next]!;
      upstream.next = (upstream.next + 1) % count;
      return instance;
    },
    failed(instance) {
      instance.failures += 1;
      const t = now();
      if (instance.failures < settings.ejectAfter || instance.ejectedUntil > t) return;
      instance.ejectedUntil = t + ejectForMs;
      // Back in rotation after ejectFor; one more failure then ejects it again.
      instance.failures = settings.ejectAfter - 1;
      metrics.ejected(instance.service);
      logger.warn({ service: instance.service, instance: instance.origin, seconds: settings.ejectFor }, 'upstream instance ejected after consecutive connection failures');
    },
    answered(instance) {
      if (instance.failures !== 0) instance.failures = 0;
    },
    async close() {
      await Promise.all([...new Set(dispatchers)].map((d) => d.close().catch(() => {})));
    },
  };
}
