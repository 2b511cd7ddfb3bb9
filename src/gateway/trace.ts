/**
 * Correlation ids the gateway passes on or creates: `X-Request-Id` (kept when the client sent a
 * sane one, so a caller can follow its own request through the logs) and W3C Trace Context
 * `traceparent` / `tracestate` (kept when valid, created otherwise; the gateway does not start a
 * span of its own).
 */
import { randomHexPool } from '../shared/random.ts';

const REQUEST_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** W3C Trace Context level 1: version 00, a non-zero trace id and parent id, flags. */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

// One CSPRNG call and one hex conversion per 100 requests' ids (a request id and a traceparent: 79 hex digits).
const randomHex = randomHexPool(3950);

/** The variant nibble of an RFC 9562 UUID (10xx), from a random hex digit's two low bits. */
const VARIANT: Readonly<Record<string, string>> = Object.fromEntries([...'0123456789abcdef'].map((digit) => [digit, '89ab'[Number.parseInt(digit, 16) & 3]!]));

/** A random (version 4) UUID as crypto.randomUUID() makes them (122 random bits), from 31 pooled hex digits. */
export function newRequestId(): string {
  const hex = randomHex(31);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${VARIANT[hex[15]!]}${hex.slice(16, 19)}-${hex.slice(19, 31)}`;
}

export function requestId(sent: string | undefined): string {
  return sent !== undefined && REQUEST_ID.test(sent) ? sent : newRequestId();
}

export function validTraceparent(sent: string | undefined): sent is string {
  return sent !== undefined && sent.length === 55 && TRACEPARENT.test(sent);
}

/** A fresh traceparent (sampled flag off): a random trace id and parent id (48 pooled hex digits). */
export function newTraceparent(): string {
  const hex = randomHex(48);
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-00`;
}

/** tracestate is forwarded only with the traceparent it belongs to, and only when short and printable. */
export function validTracestate(sent: string | undefined): sent is string {
  return sent !== undefined && sent.length <= 512 && /^[\x20-\x7e]*$/.test(sent);
}
