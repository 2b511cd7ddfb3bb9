/**
 * Operational endpoints every listener of ours can serve: liveness (`/healthz`: the process
 * answers), readiness (`/readyz`: its dependencies answer, 503 otherwise) and Prometheus
 * `/metrics`.
 */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.ts';

export interface HealthOptions {
  metrics: Metrics;
  /** Readiness probes by name (e.g. `store`); any that throws makes /readyz answer 503. */
  ready: Record<string, () => Promise<void>>;
}

export function registerHealthRoutes(app: FastifyInstance, options: HealthOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    for (const [name, probe] of Object.entries(options.ready)) {
      try {
        await probe();
      } catch {
        return reply.code(503).send({ status: 'unavailable', reason: name });
      }
    }
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.type(options.metrics.registry.contentType);
    return options.metrics.registry.metrics();
  });
}
