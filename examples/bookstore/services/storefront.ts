/**
 * The storefront service: the bookstore's pages and their static files, and `GET /api/me` (who
 * the page is talking for, from the verified token the gateway forwarded).
 *
 *   GET /                 public: the shop
 *   GET /staff            the gateway admits staff and admins only
 *   GET /static/*         public: script, stylesheet, icon
 *   GET /api/me           signed in: username, roles, permissions
 */
import { readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { requireIdentity, router, sendJson } from './http.ts';

const FILES: Record<string, { file: string; type: string }> = {
  'common.js': { file: 'common.js', type: 'text/javascript; charset=utf-8' },
  'app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  'staff.js': { file: 'staff.js', type: 'text/javascript; charset=utf-8' },
  'style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  'favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
};

/** Scripts and styles from this origin only; no inline script, no framing. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function load(name: string): Buffer {
  return readFileSync(new URL(`../storefront/${name}`, import.meta.url));
}

function send(res: ServerResponse, body: Buffer, type: string, cache: string): void {
  res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': cache, 'x-content-type-options': 'nosniff', ...(type.startsWith('text/html') ? { 'content-security-policy': PAGE_CSP } : {}) });
  res.end(body);
}

export function storefrontRoutes() {
  const index = load('index.html');
  const staff = load('staff.html');
  const statics = new Map(Object.entries(FILES).map(([name, { file, type }]) => [name, { body: load(file), type }]));
  return router([
    ['GET', '/', ({ res }) => send(res, index, 'text/html; charset=utf-8', 'no-cache')],
    ['GET', '/staff', ({ res }) => send(res, staff, 'text/html; charset=utf-8', 'no-store')],
    ['GET', '/static/:name', ({ res, params }) => {
      const file = statics.get(params.name!);
      if (!file) return sendJson(res, 404, { type: 'urn:gatehouse:error:not_found', title: 'No such resource', status: 404, code: 'not_found' });
      send(res, file.body, file.type, 'public, max-age=300');
    }],
    ['GET', '/api/me', ({ res, identity }) => {
      const me = requireIdentity(identity);
      sendJson(res, 200, {
        subject: me.subject,
        username: typeof me.claims.preferred_username === 'string' ? me.claims.preferred_username : me.subject,
        kind: me.kind,
        roles: me.roles,
        permissions: me.permissions,
        scopes: me.scopes,
      });
    }],
  ]);
}
