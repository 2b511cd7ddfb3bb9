/**
 * The few HTML pages the gateway itself answers with: a failed sign-in and the sign-out
 * confirmation for a cross-site GET /logout. Plain HTML, no scripts, everything escaped, never a
 * token or a stack trace; a strict CSP that forbids framing.
 */
import type { ServerResponse } from 'node:http';
import { escapeHtml as e } from '../../shared/html.ts';
import { GatehouseError } from '../../shared/errors.ts';
import { PROBLEM_CONTENT_TYPE, toProblem } from '../../shared/problem.ts';

const PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${e(title)}</title></head>
<body>
<main>
<h1>${e(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'content-length': Buffer.byteLength(html) });
  res.end(html);
}

/** A failed sign-in: what happened, and a link that starts a new one. */
export function sendSignInFailed(res: ServerResponse, status: 400 | 502, message: string, retry: string): void {
  send(res, status, layout('Sign-in failed', `<p role="alert">${e(message)}</p>\n<p><a href="${e(retry)}">Try again</a></p>`));
}

/** The person pressed Cancel at the Security Service: say so, offer to sign in or to go back. */
export function sendSignInCancelled(res: ServerResponse, retry: string, back: string): void {
  send(res, 200, layout('Sign-in cancelled', `<p>You cancelled the sign-in. Nothing was shared with this site.</p>\n<p><a href="${e(retry)}">Sign in</a> · <a href="${e(back)}">Back</a></p>`));
}

/** GET /logout from another site: sign out only when the user confirms here (a same-origin POST). */
export function sendLogoutConfirmation(res: ServerResponse): void {
  send(res, 200, layout('Sign out?', `<form method="post" action="/logout">\n<button type="submit">Sign out</button>\n</form>`));
}

export function sendMethodNotAllowed(res: ServerResponse, path: string, allow: string[]): void {
  const body = JSON.stringify(toProblem(new GatehouseError('method_not_allowed', `use ${allow.join(' or ')}`), path));
  res.writeHead(405, { allow: allow.join(', '), 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A 303 (the browser follows with GET) that is never cached and never leaks the URL it came from. */
export function sendRedirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': 0 });
  res.end();
}
