/**
 * Correlation ids the gateway passes on or creates: `X-Request-Id` (kept when the client sent a
 * sane one, so a caller can follow its own request through the logs) and W3C Trace Context
 * `traceparent` / `tracestate` (kept when valid, created otherwise; the gateway does not start a
 * span of its own).
 */
import { randomUUID } from 'node:crypto';
import { randomBytesPool } from '../shared/random.ts';

const REQUEST_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** W3C Trace Context level 1: version 00, a non-zero trace id and parent id, flags. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

export function requestId(sent: string | undefined): string {
  return sent !== undefined && REQUEST_ID.test(sent) ? sent : randomUUID();
}

export function validTraceparent(sent: string | undefined): sent is string {
  return sent !== undefined && sent.length === 55 && TRACEPARENT.test(sent);
}

// One CSPRNG call per 170 trace ids instead of one each.
const randomBytes = randomBytesPool(4080);

/** A fresh traceparent (sampled flag off): trace id and parent id from 24 random bytes, one hex conversion. */
export function newTraceparent(): string {
  const hex = randomBytes(24).toString('hex');
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-00`;
}

/** tracestate is forwarded only with the traceparent it belongs to, and only when short and printable. */
export function validTracestate(sent: string | undefined): sent is string {
  return sent !== undefined && sent.length <= 512 && /^[\x20-\x7e]*$/.test(sent);
}
