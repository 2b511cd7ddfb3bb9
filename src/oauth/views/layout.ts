/**
 * The HTML shell of every page the Security Service renders: one stylesheet, no scripts, a strict
 * Content-Security-Policy that also forbids framing (with X-Frame-Options for old browsers).
 */

import { escapeHtml, htmlPage } from '../../shared/html.ts';

export { escapeHtml };

export const STYLESHEET_PATH = '/assets/gatehouse.css';

/**
 * CSP for our pages. `formTargets` are extra origins a form may lead to: browsers apply
 * `form-action` to the redirects that follow a submission, and login ends at the client's
 * redirect URI.
 */
export function pageCsp(formTargets: string[] = []): string {
  const formAction = ["'self'", ...formTargets].join(' ');
  return `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

export const PAGE_HEADERS = (formTargets: string[] = []): Record<string, string> => ({
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': pageCsp(formTargets),
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
});

export function layout(title: string, body: string, options: { wide?: boolean } = {}): string {
  return htmlPage(title, body, { stylesheet: STYLESHEET_PATH, ...options });
}

/** Origins of absolute http(s) URIs, for `form-action`. */
export function originsOf(uris: Array<string | undefined>): string[] {
  const origins = new Set<string>();
  for (const uri of uris) {
    const url = uri === undefined ? null : URL.parse(uri);
    if (url && (url.protocol === 'http:' || url.protocol === 'https:')) origins.add(url.origin);
  }
  return [...origins];
}
