/**
 * Stage 1 — parse: the request head and target, before anything reads a header. A framing
 * ambiguity (two Hosts, CL + TE, duplicate Content-Length, bare CR …) or a target that could be
 * read two ways is a 400 that also closes the connection: whatever Node parsed behind it on the
 * same socket may be a smuggled request and is dropped (./respond.ts).
 */
import { GatehouseError } from '../../shared/errors.ts';
import { resolveClientAddress } from '../../shared/client-address.ts';
import { checkRequestHead } from '../protocol.ts';
import { normalizeTarget } from '../request-target.ts';
import { readRequestHead } from '../request-head.ts';
import { requestId, validTraceparent, newTraceparent } from '../trace.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function parse(exchange: Exchange, state: GatewayState): Outcome {
  const { req } = exchange;
  const check = checkRequestHead(req.method!, req.rawHeaders, req.httpVersion);
  if (!check.ok) {
    exchange.closeConnection = true;
    exchange.decision = 'malformed';
    return new GatehouseError('invalid_request', `The request is malformed: ${check.reason}`);
  }
  const trustedPeer = state.trustedProxies.matches(exchange.peer);
  const head = readRequestHead(req.rawHeaders, trustedPeer);
  exchange.head = head;
  exchange.trustedPeer = trustedPeer;
  exchange.requestId = requestId(head.requestId);
  exchange.traceparent = validTraceparent(head.traceparent) ? head.traceparent : newTraceparent();
  if (trustedPeer) exchange.client = resolveClientAddress(exchange.peer, head.forwardedFor, state.trustedProxies);
  const target = normalizeTarget(req.url!, state.maxTargetLength);
  if (!target.ok) {
    exchange.closeConnection = true;
    exchange.decision = 'malformed';
    return target.status === 414
      ? new GatehouseError('uri_too_long', undefined, { detail: target.reason })
      : new GatehouseError('invalid_request', `The request target is not accepted: ${target.reason}`);
  }
  exchange.path = target.path;
  exchange.segments = target.segments;
  exchange.query = target.query;
  return undefined;
}
