/**
 * The gateway's own cookies on the wire: reading them from a Cookie header, writing and clearing
 * them with the attributes a browser session needs, splitting a value too large for one cookie
 * into numbered chunks, and removing them from the Cookie header forwarded upstream.
 *
 * Names: the session cookie is `<cookieName>` (on https `__Host-<cookieName>`: Secure, Path=/, no
 * Domain, so no sibling host can plant or overwrite it); its chunks are `<name>.0`, `<name>.1`, …
 * (`.` cannot occur in a configured cookieName, so no other cookie collides). The short-lived
 * sign-in cookie is `<cookieName>.login` on Path=/login (`__Secure-` on https).
 */
import type { ServerResponse } from 'node:http';

/** Browsers keep at least 4096 bytes of name=value per cookie (RFC 6265 §6.1); stay well below. */
export const MAX_COOKIE_BYTES = 3800;
/** At most this many chunks (≈ 11 KB): beyond it a session is refused rather than risk Node's 16 KB header limit. */
export const MAX_CHUNKS = 3;

export interface CookieAttributes {
  path: string;
  /** Seconds; 0 clears the cookie. */
  maxAge: number;
  secure: boolean;
}

export interface CookieNames {
  session: string;
  login: string;
}

export function cookieNames(cookieName: string, https: boolean): CookieNames {
  return {
    session: https ? `__Host-${cookieName}` : cookieName,
    login: https ? `__Secure-${cookieName}.login` : `${cookieName}.login`,
  };
}

interface Pair {
  name: string;
  value: string;
  /** The pair as it appeared in the header, for forwarding unchanged. */
  raw: string;
}

function pairs(header: string | undefined): Pair[] {
  if (!header) return [];
  return header
    .split(';')
    .map((raw) => raw.trim())
    .filter((raw) => raw !== '')
    .map((raw) => {
      const eq = raw.indexOf('=');
      return eq === -1 ? { name: '', value: raw, raw } : { name: raw.slice(0, eq).trim(), value: raw.slice(eq + 1).trim(), raw };
    });
}

/** The value of the first cookie called `name` (a later duplicate — a planted one — is ignored). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  return pairs(header).find((pair) => pair.name === name)?.value;
}

const chunkName = (name: string, index: number) => `${name}.${index}`;

/** The session value: the single cookie, or its chunks `.0`, `.1`, … joined in order. */
export function readChunked(header: string | undefined, name: string): { value: string; chunks: number } | undefined {
  const all = pairs(header);
  const single = all.find((pair) => pair.name === name);
  if (single) return { value: single.value, chunks: 0 };
  const parts: string[] = [];
  for (let i = 0; i < MAX_CHUNKS; i++) {
    const part = all.find((pair) => pair.name === chunkName(name, i));
    if (!part) break;
    parts.push(part.value);
  }
  return parts.length === 0 ? undefined : { value: parts.join(''), chunks: parts.length };
}

/** Whether the header carries the session cookie (whole or chunked), valid or not. */
export function hasChunked(header: string | undefined, name: string): boolean {
  return pairs(header).some((pair) => pair.name === name || isChunkOf(pair.name, name));
}

function isChunkOf(candidate: string, name: string): boolean {
  return candidate.startsWith(`${name}.`) && /^\d+$/.test(candidate.slice(name.length + 1));
}

export function setCookieLine(name: string, value: string, attributes: CookieAttributes): string {
  const parts = [`${name}=${value}`, `Path=${attributes.path}`, `Max-Age=${Math.max(0, Math.floor(attributes.maxAge))}`];
  if (attributes.maxAge <= 0) parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  parts.push('HttpOnly', 'SameSite=Lax');
  if (attributes.secure) parts.push('Secure');
  return parts.join('; ');
}

export function clearCookieLine(name: string, path: string, secure: boolean): string {
  return setCookieLine(name, '', { path, maxAge: 0, secure });
}

/**
 * Set-Cookie lines that store `value` under `name`: one cookie when it fits, else numbered chunks.
 * Whatever the request carried in the other form (or more chunks than now) is cleared.
 * Undefined when the value needs more than MAX_CHUNKS chunks.
 */
export function chunkedCookieLines(name: string, value: string, attributes: CookieAttributes, requestHeader: string | undefined): string[] | undefined {
  const stale = presentNames(requestHeader, name);
  const lines: string[] = [];
  const written = new Set<string>();
  if (name.length + 1 + value.length <= MAX_COOKIE_BYTES) {
    lines.push(setCookieLine(name, value, attributes));
    written.add(name);
  } else {
    const size = MAX_COOKIE_BYTES - chunkName(name, MAX_CHUNKS).length - 1;
    const count = Math.ceil(value.length / size);
    if (count > MAX_CHUNKS) return undefined;
    for (let i = 0; i < count; i++) {
      lines.push(setCookieLine(chunkName(name, i), value.slice(i * size, (i + 1) * size), attributes));
      written.add(chunkName(name, i));
    }
  }
  for (const old of stale) if (!written.has(old)) lines.push(clearCookieLine(old, attributes.path, attributes.secure));
  return lines;
}

/** Set-Cookie lines that clear the session cookie and every chunk the request carried. */
export function clearChunkedLines(name: string, secure: boolean, requestHeader: string | undefined): string[] {
  const present = presentNames(requestHeader, name);
  if (present.size === 0) present.add(name);
  return [...present].map((old) => clearCookieLine(old, '/', secure));
}

function presentNames(header: string | undefined, name: string): Set<string> {
  return new Set(pairs(header).map((pair) => pair.name).filter((candidate) => candidate === name || isChunkOf(candidate, name)));
}

/** The Cookie header without the named cookies and the chunks of the first; undefined when nothing is left. */
export function withoutCookies(header: string | undefined, chunkedName: string, others: string[]): string | undefined {
  const kept = pairs(header).filter((pair) => pair.name !== chunkedName && !isChunkOf(pair.name, chunkedName) && !others.includes(pair.name));
  return kept.length === 0 ? undefined : kept.map((pair) => pair.raw).join('; ');
}

/** Adds Set-Cookie lines to those already on the response. */
export function appendSetCookie(res: ServerResponse, lines: string[]): void {
  if (lines.length === 0) return;
  const previous = res.getHeader('set-cookie');
  const existing = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)];
  res.setHeader('set-cookie', [...existing, ...lines]);
}
