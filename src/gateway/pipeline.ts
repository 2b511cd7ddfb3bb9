/**
 * The gateway, as one table: every request runs these stages in order. Each stage is a small
 * function in ./stages that either lets the request go on (undefined), refuses it with a coded
 * GatehouseError, or has answered it itself. Errors become responses in one place
 * (./respond.ts); the access log and metrics are written once, when the request is over.
 *
 *   parse → owned paths → preflight → match → allowFrom → limit per address → body limit
 *         → authenticate → limit per caller → authorize → forward
 */
import { GatehouseError, isGatehouseError } from '../shared/errors.ts';
import { parse } from './stages/parse.ts';
import { owned } from './stages/owned.ts';
import { preflight } from './stages/preflight.ts';
import { match } from './stages/match.ts';
import { allowFrom } from './stages/allow-from.ts';
import { limitAddress, limitCaller } from './stages/rate-limit.ts';
import { bodyLimit } from './stages/body-limit.ts';
import { authenticate } from './stages/authenticate.ts';
import { authorize } from './stages/authorize.ts';
import { forward } from './stages/forward.ts';
import { sendError } from './respond.ts';
import { logAccess } from './access-log.ts';
import { ANSWERED, type Exchange, type GatewayState, type Stage } from './exchange.ts';

export const PIPELINE: ReadonlyArray<readonly [name: string, stage: Stage]> = [
  ['parse', parse], //               request head + target: framing ambiguities, unsafe paths → 400/414, connection closed
  ['owned', owned], //               /healthz /readyz /metrics, sign-in paths → answered by the gateway
  ['preflight', preflight], //       CORS preflight for a route with a policy → 204 | 403
  ['match', match], //               route + params | 404 | 405 + Allow
  ['allowFrom', allowFrom], //       client address in the route's CIDR blocks | 403
  ['limitAddress', limitAddress], // rateLimit per client address (before any signature check) | 429 + Retry-After
  ['bodyLimit', bodyLimit], //       declared Content-Length ≤ gateway.bodyLimit | 413
  ['authenticate', authenticate], // bearer | session → verified identity | 401 + WWW-Authenticate (public/passthrough: skipped)
  ['limitCaller', limitCaller], //   rateLimit per sub | 429 + Retry-After
  ['authorize', authorize], //       roles, scopes, permissions, owner | 403 (insufficient_scope)
  ['forward', forward], //           upstream response streamed back | 502 | 504
];

const STAGES: readonly Stage[] = PIPELINE.map(([, stage]) => stage);

export async function handle(exchange: Exchange, state: GatewayState): Promise<void> {
  try {
    for (let i = 0; i < STAGES.length; i++) {
      let outcome = STAGES[i]!(exchange, state);
      if (outcome instanceof Promise) outcome = await outcome;
      if (outcome === undefined) continue;
      if (outcome !== ANSWERED) sendError(exchange, state, outcome);
      break;
    }
  } catch (error) {
    // A bug, never a decision: 500 without detail to the client, the error to the log.
    exchange.decision = 'error';
    state.logger.error({ reqId: exchange.requestId, err: error }, 'gateway request failed');
    sendError(exchange, state, isGatehouseError(error) ? error : new GatehouseError('internal_error'));
  }
  logAccess(exchange, state);
}
