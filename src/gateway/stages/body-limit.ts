/**
 * Stage 7 — bodyLimit: a declared Content-Length above `gateway.bodyLimit` is refused (413)
 * before the body is read or the token verified; a chunked body is counted while it streams
 * (./forward.ts).
 */
import { GatehouseError } from '../../shared/errors.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function bodyLimit(exchange: Exchange, state: GatewayState): Outcome {
  const length = exchange.head!.contentLength;
  if (length === undefined || Number(length) <= state.bodyLimit) return undefined;
  exchange.decision = 'body_too_large';
  return bodyTooLarge(state.bodyLimit);
}

export const bodyTooLarge = (limit: number) => new GatehouseError('body_too_large', `The request body exceeds ${limit} bytes`);
