/**
 * What the HTTP shell gives a browser: an HTML page instead of a problem document when the
 * request prefers `text/html` (Accept negotiation: API clients sending `*\/*` or JSON still get
 * RFC 9457 problem details), and the favicon every page links to.
 */
import accepts from 'accepts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorCatalogue, type GatehouseError } from './errors.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import { FAVICON_PATH, escapeHtml as escape, htmlPage } from './html.ts';

export { FAVICON_PATH };

/** The Gatehouse mark: a gate on the accent colour. SVG, served as /favicon.ico (browsers take SVG there). */
const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2457c5"/><path d="M8 27V13l8-6 8 6v14h-5v-8h-6v8z" fill="#fff"/></svg>';

/** Serves the favicon with a week-long cache: it never changes within a release. */
export function registerFavicon(app: FastifyInstance): void {
  app.get(FAVICON_PATH, async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=604800, immutable').send(FAVICON_SVG));
}

/** True when the client ranks an HTML page above a problem document (a browser navigating here). */
export function prefersHtml(request: FastifyRequest): boolean {
  return accepts(request.raw).type([PROBLEM_CONTENT_TYPE, 'application/json', 'text/html']) === 'text/html';
}

/** No scripts, no framing; the stylesheet (when the service serves one) and the favicon only. */
export const ERROR_PAGE_HEADERS: Record<string, string> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
};

/** A small page with what the problem document would say: title, public description, code. */
export function errorPageHtml(error: GatehouseError, stylesheet?: string): string {
  const title = errorCatalogue[error.code].title;
  const detail = error.description !== title ? `<p role="alert">${escape(error.description)}</p>\n` : '';
  return htmlPage(title, `<h1>${escape(title)}</h1>
${detail}<p class="code">${error.status} · <code>${escape(error.code)}</code></p>
<a class="button" href="/">Go to the start page</a>`, { stylesheet });
}
