/**
 * Stage 11 — forward: the normalized target to the next instance of the route's service, bodies
 * streamed both ways (./response-relay.ts writes the upstream body straight into the response).
 * Connection failure → 502, no response headers within the route's timeout → 504, both as
 * problem details that say nothing about the upstream (the log names the instance). A request
 * that sent nothing upstream yet (idempotent, no body) is retried once on another instance.
 */
import { Transform, type Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatehouseError } from '../../shared/errors.ts';
import { upstreamRequestHeaders } from '../upstream-headers.ts';
import { relayResponse } from './response-relay.ts';
import type { UpstreamErrorKind } from '../metrics.ts';
import { bodyTooLarge } from './body-limit.ts';
import { ANSWERED, type Exchange, type GatewayState, type Outcome } from '../exchange.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

class BodyTooLarge extends Error {}

/**
 * The request body as undici reads it: the client's stream piped through a counter. Never `req`
 * itself: undici destroys the body it was given when the upstream call fails, and destroying an
 * unfinished IncomingMessage destroys the client's socket, so the client would get a reset
 * instead of its 502. A chunked body past `limit` fails the upstream call (the client gets 413).
 */
function relayBody(exchange: Exchange, limit: number): Readable {
  const { req } = exchange;
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > limit) {
        req.unpipe(counter);
        callback(new BodyTooLarge());
      } else callback(null, chunk);
    },
  });
  // pipe, not pipeline: a failure must not destroy the client socket before it is answered.
  // pipe does not forward errors: a client that aborts mid-body must abort the upstream call too.
  req.once('error', (error) => counter.destroy(error));
  req.pipe(counter);
  return counter;
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'UND_ERR_CONNECT_TIMEOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);

function classify(error: unknown): UpstreamErrorKind {
  const code = (error as { code?: string })?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return 'timeout';
  if (CONNECT_CODES.has(code)) return 'connect';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.includes('CERT')) return 'tls';
  // the SDK's server-identity check fails the handshake with a plain Error
  if (code === '' && error instanceof Error && /certificate|identity/i.test(error.message)) return 'tls';
  return 'reset';
}

export async function forward(exchange: Exchange, state: GatewayState): Promise<Outcome> {
  const { req, res } = exchange;
  const routeState = exchange.routeState!;
  const { upstream } = routeState;
  const head = exchange.head!;
  const method = req.method!;
  const hasBody = head.chunked || (head.contentLength !== undefined && head.contentLength !== '0');
  const options: Dispatcher.DispatchOptions = {
    origin: '',
    path: exchange.query === '' ? exchange.path : exchange.path + exchange.query,
    method: method as Dispatcher.HttpMethod,
    headers: upstreamRequestHeaders(exchange, state),
    body: hasBody ? relayBody(exchange, state.bodyLimit) : null,
    headersTimeout: routeState.timeoutMs,
    bodyTimeout: routeState.timeoutMs,
  };
  if (exchange.expectContinue) res.writeContinue();
  let attempts = !hasBody && IDEMPOTENT.has(method) ? Math.min(2, upstream.instances.length) : 1;
  for (;;) {
    const instance = state.upstreams.pick(upstream);
    exchange.instance = instance.origin;
    options.origin = instance.origin;
    try {
      await relayResponse(instance.dispatcher, options, exchange);
      state.upstreams.answered(instance);
      exchange.decision = 'allow';
      return ANSWERED;
    } catch (error) {
      if (res.headersSent || res.destroyed || req.socket.destroyed) {
        // The client went away, or the upstream failed mid-body: nothing more can be said.
        if (res.headersSent) state.upstreams.answered(instance);
        if (!res.destroyed) res.destroy();
        exchange.decision = 'allow';
        return ANSWERED;
      }
      if (error instanceof BodyTooLarge || (error as Error)?.cause instanceof BodyTooLarge) {
        exchange.decision = 'body_too_large';
        exchange.closeConnection = true;
        return bodyTooLarge(state.bodyLimit);
      }
      const kind = classify(error);
      state.metrics.upstreamError(upstream.name, kind);
      exchange.decision = 'upstream_error';
      if (kind === 'timeout') {
        state.logger.warn({ reqId: exchange.requestId, service: upstream.name, instance: instance.origin, timeoutMs: routeState.timeoutMs }, 'upstream timed out');
        return new GatehouseError('gateway_timeout');
      }
      state.upstreams.failed(instance);
      if (--attempts > 0) continue;
      state.logger.warn({ reqId: exchange.requestId, service: upstream.name, instance: instance.origin, kind, code: (error as { code?: string })?.code, detail: (error as Error)?.message }, 'upstream call failed');
      return new GatehouseError('bad_gateway');
    }
  }
}
