/**
 * The HTML shell of every page the Security Service renders: one stylesheet, no scripts, a strict
 * Content-Security-Policy that also forbids framing (with X-Frame-Options for old browsers).
 */
import { FAVICON_PATH } from '../../shared/browser.ts';

import { escapeHtml } from '../../shared/html.ts';

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
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
</head>
<body>
<main class="card${options.wide ? ' wide' : ''}">
${body}
</main>
</body>
</html>`;
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
