/**
 * Checks on the raw request head that Node's HTTP parser leaves to us (docs/gateway.md
 * "Request targets" lists which layer refuses what). Node keeps the first of duplicate `Host`,
 * `Content-Length` and `Authorization` headers in `req.headers` while an upstream or a proxy may
 * keep the last: any such ambiguity is a 400 here, before anything reads a header.
 */

export type HeadCheck = { ok: true } | { ok: false; reason: string };

/**
 * Headers that ask a server to treat the request as another method. The gateway authorizes the
 * method on the request line only, so the server strips these before forwarding.
 */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = ['x-http-method-override', 'x-http-method', 'x-method-override', 'x-original-method'];

/**
 * Headers some frameworks (Symfony, IIS URL Rewrite) read as the real request path: the same
 * bypass as a method override, one level up. The server strips them as well.
 */
export const PATH_OVERRIDE_HEADERS: readonly string[] = ['x-original-url', 'x-rewrite-url'];

export const HEAD_REASONS = {
  host: 'exactly one Host header is required',
  badHost: 'the Host header is malformed',
  duplicateContentLength: 'more than one Content-Length header',
  badContentLength: 'Content-Length must be a decimal number',
  lengthAndChunked: 'Content-Length together with Transfer-Encoding',
  transferEncoding: 'Transfer-Encoding other than chunked',
  duplicateAuthorization: 'more than one Authorization header',
  headerBytes: 'a header value contains CR, LF or NUL',
  method: 'the method is not a valid token',
  version: 'only HTTP/1.1 and HTTP/1.0 are accepted',
  chunkedHttp10: 'Transfer-Encoding in an HTTP/1.0 request',
} as const;

const OK: HeadCheck = Object.freeze({ ok: true });
const fail = (reason: string): HeadCheck => ({ ok: false, reason });

// Host = uri-host [ ":" port ]: reg-name / IPv4 / IP-literal characters only (RFC 3986 §3.2.2).
const HOST_CHARS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:[]%") HOST_CHARS[c.charCodeAt(0)] = 1;
// tchar (RFC 9110 §5.6.2)
const TCHAR = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;

function allOf(value: string, table: Uint8Array): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 128 || table[code] !== 1) return false;
  }
  return true;
}

/** `name` is `lower` (a lower-case header name) in any spelling; `title` is its usual one, matched without lower-casing. */
const isName = (name: string, lower: string, title: string): boolean => name === title || name === lower || name.toLowerCase() === lower;

function isDigits(value: string): boolean {
  if (value.length === 0 || value.length > 16) return false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

/** CR, LF or NUL: a regular expression scans a long value (a bearer token) ~15× faster than a charCodeAt loop here. */
const LINE_BYTES = /[\r\n\0]/;
const hasLineBytes = (value: string): boolean => LINE_BYTES.test(value);

/**
 * `method`, `rawHeaders` (names and values alternating) and `httpVersion` as IncomingMessage
 * holds them. Node hands HTTP/0.9 requests (`GET /a` without a version) to the handler as
 * `0.9`, and chunked HTTP/1.0 requests too, whose framing an HTTP/1.0 proxy reads differently
 * (RFC 9112 §6.1).
 */
export function checkRequestHead(method: string, rawHeaders: readonly string[], httpVersion = '1.1'): HeadCheck {
  if (httpVersion !== '1.1' && httpVersion !== '1.0') return fail(HEAD_REASONS.version);
  if (method.length === 0 || !allOf(method, TCHAR)) return fail(HEAD_REASONS.method);
  let hosts = 0;
  let lengths = 0;
  let encodings = 0;
  let authorizations = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (hasLineBytes(value)) return fail(HEAD_REASONS.headerBytes);
    // Compare by length first: most header names are none of these, and need no lower-casing.
    switch (name.length) {
      case 4:
        if (isName(name, 'host', 'Host')) {
          hosts++;
          if (value.length === 0 || !allOf(value, HOST_CHARS)) return fail(HEAD_REASONS.badHost);
        }
        break;
      case 13:
        if (isName(name, 'authorization', 'Authorization')) authorizations++;
        break;
      case 14:
        if (isName(name, 'content-length', 'Content-Length')) {
          lengths++;
          if (!isDigits(value.trim())) return fail(HEAD_REASONS.badContentLength);
        }
        break;
      case 17:
        if (isName(name, 'transfer-encoding', 'Transfer-Encoding')) {
          encodings++;
          if (value.trim().toLowerCase() !== 'chunked') return fail(HEAD_REASONS.transferEncoding);
        }
        break;
    }
  }
  if (hosts !== 1) return fail(HEAD_REASONS.host);
  if (lengths > 1) return fail(HEAD_REASONS.duplicateContentLength);
  if (encodings > 1) return fail(HEAD_REASONS.transferEncoding);
  if (encodings > 0 && httpVersion === '1.0') return fail(HEAD_REASONS.chunkedHttp10);
  if (lengths > 0 && encodings > 0) return fail(HEAD_REASONS.lengthAndChunked);
  if (authorizations > 1) return fail(HEAD_REASONS.duplicateAuthorization);
  return OK;
}
