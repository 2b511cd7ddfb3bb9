/**
 * The gateway's own endpoints. `/healthz`: 200 while the process answers. `/readyz`: 200 only
 * when the routes are loaded, the verifier has the issuer's keys and the policy, the
 * security-event stream is connected (revocations arrive) and, with https upstreams, the workload
 * certificate and a fresh CRL are held; otherwise 503 naming what is missing. `/metrics`:
 * Prometheus text, to `gateway.metricsAllowFrom` only.
 */
import { GatehouseError } from '../shared/errors.ts';
import { sendJson } from './respond.ts';
import { ANSWERED, type Exchange, type GatewayState, type Outcome, type Stage } from './exchange.ts';

const readOnly = (exchange: Exchange): Outcome => {
  const method = exchange.req.method;
  if (method === 'GET' || method === 'HEAD') return undefined;
  exchange.decision = 'method_not_allowed';
  return new GatehouseError('method_not_allowed', undefined, { headers: { allow: 'GET, HEAD' } });
};

function healthz(exchange: Exchange, state: GatewayState): Outcome {
  const refused = readOnly(exchange);
  if (refused !== undefined) return refused;
  sendJson(exchange, state, 200, { status: 'ok' });
  return ANSWERED;
}

function readyz(exchange: Exchange, state: GatewayState): Outcome {
  const refused = readOnly(exchange);
  if (refused !== undefined) return refused;
  const notReady = state.notReady();
  if (notReady.length === 0) sendJson(exchange, state, 200, { status: 'ready' });
  else sendJson(exchange, state, 503, { status: 'unavailable', notReady });
  return ANSWERED;
}

async function metrics(exchange: Exchange, state: GatewayState): Promise<Outcome> {
  const refused = readOnly(exchange);
  if (refused !== undefined) return refused;
  if (!state.metricsAllowFrom.matches(exchange.client)) {
    exchange.decision = 'address';
    return new GatehouseError('forbidden', '/metrics is not available from your network address');
  }
  const { registry } = state.metrics;
  sendJson(exchange, state, 200, await registry.metrics(), registry.contentType);
  return ANSWERED;
}

export const HEALTH_PATHS: ReadonlyArray<readonly [string, Stage]> = [
  ['/healthz', healthz],
  ['/readyz', readyz],
  ['/metrics', metrics],
];
