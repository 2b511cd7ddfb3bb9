/**
 * Where a browser may come from and go back to.
 *
 * - `crossOriginReason`: a state-changing request that only the session cookie authenticates must
 *   come from the gateway's own origin. SameSite=Lax already keeps the cookie off cross-site
 *   POSTs in current browsers; this check also covers same-site sibling hosts, older browsers
 *   and methods a form cannot send.
 * - `safeReturnTo`: where /login sends the browser back to — a path on this origin only, so the
 *   sign-in can never be turned into an open redirect.
 */
import type { IncomingMessage } from 'node:http';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Undefined when `req` may change state with the cookie; else why not. Rules: a safe method is
 * fine; `Sec-Fetch-Site`, when present, must be `same-origin`; otherwise `Origin` must be the
 * gateway's public origin; a request with neither is refused (it cannot prove where it came from).
 */
export function crossOriginReason(req: IncomingMessage, publicOrigin: string): string | undefined {
  if (SAFE_METHODS.has(req.method ?? '')) return undefined;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined) {
    return site === 'same-origin' ? undefined : 'a request authenticated by the session cookie must come from this site\'s own pages (Sec-Fetch-Site is not same-origin)';
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    return origin === publicOrigin ? undefined : 'a request authenticated by the session cookie must come from this site\'s own pages (Origin is another origin)';
  }
  return 'a request authenticated by the session cookie must carry Origin or Sec-Fetch-Site (send it from this site\'s pages, or use a bearer token)';
}

/** Longest return path kept; a longer one falls back to `/`. */
const MAX_RETURN_TO = 2048;
/** A path of this origin: one leading `/`, not `//` or `/\` (protocol-relative), no backslash, whitespace or control characters (browsers strip or rewrite them). */
const LOCAL_PATH = /^\/(?![/\\])[^\\\s\x00-\x1f\x7f]*$/;

/** `value` when it is a path on `publicUrl`'s origin, normalized; `/` otherwise. */
export function safeReturnTo(value: string | null | undefined, publicUrl: string): string {
  if (!value || value.length > MAX_RETURN_TO || !LOCAL_PATH.test(value)) return '/';
  const base = new URL(publicUrl);
  const url = URL.parse(value, base.href);
  if (!url || url.origin !== base.origin) return '/';
  const path = `${url.pathname}${url.search}`;
  // Dot segments can normalize `/..//evil` into `//evil`: check the result again.
  if (!LOCAL_PATH.test(path) || /^\/(login|logout)(\/|$|\?)/.test(path)) return '/';
  return path;
}
