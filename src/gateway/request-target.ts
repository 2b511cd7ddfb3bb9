/**
 * The request target, normalized once (docs/gateway.md "Request targets").
 *
 * The gateway matches routes on exactly the path it forwards, so two spellings of one resource
 * must become one string here, and every spelling whose meaning an upstream could read
 * differently (encoded `/`, dot segments, `;` parameters, `//`, overlong UTF-8 …) is refused with
 * 400 instead of being "repaired": a repair is where a more permissive match hides.
 *
 * One pass over the string, no regular expressions; the common target (plain ASCII segments, no
 * escapes) costs one slice per segment.
 */

export type TargetCheck =
  | {
      ok: true;
      /** The normalized, percent-encoded path that is matched AND forwarded. */
      path: string;
      /** Decoded segments of `path` ([] for "/"). */
      segments: readonly string[];
      /** '' or '?…' exactly as validated, forwarded unchanged. */
      query: string;
    }
  | { ok: false; status: 400 | 414; reason: string };

/** Reasons are short and safe to send: they name the rule, never echo the input. */
export const TARGET_REASONS = {
  tooLong: 'the request target is too long',
  notOriginForm: 'the request target must be a path starting with /',
  fragment: 'the request target must not contain a fragment (#)',
  badByte: 'the request target contains a control character, space or non-ASCII byte',
  backslash: 'the path contains a backslash',
  semicolon: 'the path contains ; (path parameters are not accepted)',
  emptySegment: 'the path contains an empty segment (//)',
  dotSegment: 'the path contains a . or .. segment',
  badEscape: 'the request target contains a malformed percent-encoding',
  encodedSeparator: 'the path contains an encoded / or \\',
  encodedControl: 'the path contains an encoded control character',
  badUtf8: 'the path is not valid UTF-8 once decoded',
  tokenInQuery: 'access tokens are not accepted in the query; send them in the Authorization header',
  methodInQuery: 'method-override parameters (_method) are not accepted',
} as const;

// Classes of the ASCII characters in a path segment.
const REFUSE = 0; // control, space, DEL, `#`, `\`, `;` — see refusalFor()
const RAW = 1; // pchar (RFC 3986 §3.3) other than `;` and `%`: kept as written
const ENCODE = 2; // printable but not a pchar (`"` `<` `>` `[` `]` `^` `` ` `` `{` `|` `}`): percent-encoded
const PERCENT = 3;

const PATH_CLASS = new Uint8Array(128);
const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  PATH_CLASS[c.charCodeAt(0)] = RAW;
  UNRESERVED[c.charCodeAt(0)] = 1;
}
for (const c of "!$&'()*+,=:@") PATH_CLASS[c.charCodeAt(0)] = RAW;
for (const c of '"<>[]^`{|}') PATH_CLASS[c.charCodeAt(0)] = ENCODE;
PATH_CLASS[0x25] = PERCENT;

const SLASH = 0x2f;
const QUESTION = 0x3f;
const HEX_UPPER = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);
// fatal: invalid and overlong sequences throw; ignoreBOM: a leading U+FEFF stays part of the segment.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type Refusal = { ok: false; status: 400 | 414; reason: string };
const refusals = new Map<string, Refusal>();
function refuse(status: 400 | 414, reason: string): Refusal {
  let refusal = refusals.get(reason);
  if (refusal === undefined) refusals.set(reason, (refusal = Object.freeze({ ok: false, status, reason }) as Refusal));
  return refusal;
}

function refusalFor(code: number): Refusal {
  if (code === 0x5c) return refuse(400, TARGET_REASONS.backslash);
  if (code === 0x3b) return refuse(400, TARGET_REASONS.semicolon);
  if (code === 0x23) return refuse(400, TARGET_REASONS.fragment);
  return refuse(400, TARGET_REASONS.badByte);
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * `rawTarget` as the HTTP parser delivered it (IncomingMessage.url). `maxLength` counts
 * characters; every accepted character is one ASCII byte.
 */
export function normalizeTarget(rawTarget: string, maxLength: number): TargetCheck {
  const raw = rawTarget;
  if (raw.length > maxLength) return refuse(414, TARGET_REASONS.tooLong);
  if (raw.charCodeAt(0) !== SLASH) return refuse(400, TARGET_REASONS.notOriginForm);
  const q = raw.indexOf('?');
  const pathEnd = q === -1 ? raw.length : q;
  const query = q === -1 ? '' : raw.slice(q);
  if (query !== '') {
    const problem = queryProblem(raw, q + 1);
    if (problem !== undefined) return problem;
  }
  if (pathEnd === 1) return { ok: true, path: '/', segments: [], query };

  const segments: string[] = [];
  // The normalized path, started on the first segment whose normalized form differs from the raw
  // one (until then the raw prefix is already normalized).
  let normalized: string | undefined;
  let start = 1;
  for (;;) {
    let end = start;
    let plain = true;
    for (; end < pathEnd; end++) {
      const code = raw.charCodeAt(end);
      if (code === SLASH) break;
      const kind = code < 128 ? PATH_CLASS[code] : REFUSE;
      if (kind === RAW) continue;
      if (kind === REFUSE) return refusalFor(code);
      plain = false;
    }
    if (end === start) {
      // One trailing `/` is dropped (`/a/` is `/a`); any other empty segment is `//`.
      if (end !== pathEnd || segments.length === 0) return refuse(400, TARGET_REASONS.emptySegment);
      normalized ??= raw.slice(0, start - 1);
      break;
    }
    let decoded: string;
    if (plain) {
      decoded = raw.slice(start, end);
      if (normalized !== undefined) normalized += `/${decoded}`;
    } else {
      const result = decodeSegment(raw, start, end);
      if (!result.ok) return result;
      decoded = result.decoded;
      if (normalized === undefined && result.normalized !== raw.slice(start, end)) normalized = raw.slice(0, start - 1);
      if (normalized !== undefined) normalized += `/${result.normalized}`;
    }
    if (decoded === '.' || decoded === '..') return refuse(400, TARGET_REASONS.dotSegment);
    segments.push(decoded);
    if (end === pathEnd) break;
    start = end + 1;
  }
  const path = normalized ?? raw.slice(0, pathEnd);
  return { ok: true, path, segments, query };
}

/**
 * A segment with escapes or characters to encode: unreserved escapes are decoded (`%61` → `a`,
 * RFC 3986 §6.2.2.2), every other byte is written `%XX` in upper case, so each segment has one
 * spelling. The decoded value must be UTF-8 and must not hold a separator or a control byte.
 */
function decodeSegment(raw: string, start: number, end: number): { ok: true; normalized: string; decoded: string } | Refusal {
  let normalized = '';
  const bytes: number[] = [];
  let high = false;
  for (let i = start; i < end; i++) {
    const code = raw.charCodeAt(i);
    const kind = PATH_CLASS[code];
    if (kind === RAW) {
      normalized += raw[i];
      bytes.push(code);
    } else if (kind === ENCODE) {
      normalized += HEX_UPPER[code];
      bytes.push(code);
    } else {
      const hi = i + 2 < end ? hexValue(raw.charCodeAt(i + 1)) : -1;
      const lo = hi < 0 ? -1 : hexValue(raw.charCodeAt(i + 2));
      if (lo < 0) return refuse(400, TARGET_REASONS.badEscape);
      const byte = hi * 16 + lo;
      i += 2;
      if (byte === 0x2f || byte === 0x5c) return refuse(400, TARGET_REASONS.encodedSeparator);
      if (byte < 0x20 || byte === 0x7f) return refuse(400, TARGET_REASONS.encodedControl);
      // Encoded `;` too: some upstream frameworks decode before they strip path parameters.
      if (byte === 0x3b) return refuse(400, TARGET_REASONS.semicolon);
      if (byte < 128 && UNRESERVED[byte] === 1) normalized += String.fromCharCode(byte);
      else normalized += HEX_UPPER[byte];
      if (byte >= 128) high = true;
      bytes.push(byte);
    }
  }
  let decoded: string;
  if (high) {
    try {
      decoded = utf8.decode(new Uint8Array(bytes));
    } catch {
      return refuse(400, TARGET_REASONS.badUtf8);
    }
  } else {
    decoded = String.fromCharCode(...bytes);
  }
  return { ok: true, normalized, decoded };
}

/**
 * The query is forwarded as received, so it is only checked: visible ASCII, well-formed escapes,
 * no `#`, and no parameter named `access_token` (tokens travel in the Authorization header, where
 * logs and caches do not keep them) or `_method` (a method override the upstream might honour
 * after the gateway authorized another method).
 */
function queryProblem(raw: string, from: number): Refusal | undefined {
  let interesting = false;
  for (let i = from; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code <= 0x20 || code >= 0x7f) return refuse(400, TARGET_REASONS.badByte);
    if (code === 0x23) return refuse(400, TARGET_REASONS.fragment);
    if (code === 0x25) {
      if (i + 2 >= raw.length || hexValue(raw.charCodeAt(i + 1)) < 0 || hexValue(raw.charCodeAt(i + 2)) < 0) return refuse(400, TARGET_REASONS.badEscape);
      interesting = true;
    } else if (code === 0x5f) {
      interesting = true;
    }
  }
  // Both refused names contain `_`, literally or as an escape: most queries skip the parse.
  if (!interesting) return undefined;
  for (const parameter of raw.slice(from).split(/[&;]/)) {
    const equals = parameter.indexOf('=');
    const name = lowerDecoded(equals === -1 ? parameter : parameter.slice(0, equals));
    if (name === 'access_token') return refuse(400, TARGET_REASONS.tokenInQuery);
    if (name === '_method') return refuse(400, TARGET_REASONS.methodInQuery);
  }
  return undefined;
}

function lowerDecoded(name: string): string {
  if (name.length > 40) return '';
  try {
    return decodeURIComponent(name.replaceAll('+', ' ')).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}
