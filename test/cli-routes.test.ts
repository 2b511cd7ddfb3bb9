/** `gatehouse routes check | explain` as a real process. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

const CONFIG = `
services:
  catalog: ["http://127.0.0.1:9101"]
  orders: ["http://127.0.0.1:9102"]
  backoffice: ["http://127.0.0.1:9103"]
routes:
  - { methods: [GET], path: /api/books/**, service: catalog, auth: public }
  - { methods: [POST], path: /api/orders, service: orders, permissions: [orders:create] }
  - { methods: [GET], path: /api/users/:userId/orders, service: orders, permissions: [orders:read], owner: params.userId }
  - { methods: ["*"], path: /admin/**, service: backoffice, roles: [admin] }
gateway:
  routesFile: routes.yaml
`;
const ROUTES = `routes:
  - { methods: [GET], path: /api/orders/:id, service: orders, permissions: [orders:read], rateLimit: { requests: 100, per: 1m } }
  - { methods: [GET], path: /api/:section/**, service: catalog }
`;

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-routes-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

/** Runs `gatehouse --config <name>/gatehouse.yaml …` in a directory of its own holding these files. */
function gatehouse(name: string, args: string[], files: { config?: string; routes?: string } = {}) {
  const base = join(dir, name);
  mkdirSync(base);
  writeFileSync(join(base, 'gatehouse.yaml'), files.config ?? CONFIG);
  writeFileSync(join(base, 'routes.yaml'), files.routes ?? ROUTES);
  return runCli(['--config', join(base, 'gatehouse.yaml'), ...args], { env: { GATEHOUSE_CONFIG: undefined, GATEHOUSE_DATA_DIR: undefined }, cwd: base });
}

test('ok: routes check counts the routes and names their sources', () => {
  const result = gatehouse('check-ok', ['routes', 'check']);
  assert.equal(result.stderr, '');
  assert.equal(result.code, 0);
  assert.equal(result.stdout, '6 routes OK (gatehouse.yaml, routes.yaml)\n');
});

test('fail-check: every problem on its own stderr line, exit 1', () => {
  const routes = `routes:
  - { methods: [GET], path: /api/orders/:orderId, service: billing }
  - { methods: [GET], path: /login, service: orders }
  - { methods: [GET], path: /api/books/**, service: catalog }
`;
  const result = gatehouse('check-bad', ['routes', 'check'], { routes });
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.deepEqual(result.stderr.trimEnd().split('\n').map((line) => line.replace(/:.*/s, '').trim()), ['gatehouse', 'gatehouse', 'gatehouse']);
  assert.match(result.stderr, /^gatehouse: routes\.yaml routes\[0\]\.service: unknown service "billing"/m);
  assert.match(result.stderr, /^gatehouse: routes\.yaml routes\[1\]\.path: \/login claims \/login/m);
  assert.match(result.stderr, /^gatehouse: routes\.yaml routes\[2\]\.path: \/api\/books\/\*\* overlaps gatehouse\.yaml routes\[0\]/m);
});

test('ok: explain names the winning rule, its source, params, requirements and the candidates that lost', () => {
  const result = gatehouse('explain-match', ['routes', 'explain', 'GET', '/api/orders/42']);
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;
  assert.match(out, /^target: \/api\/orders\/42$/m);
  assert.match(out, /^match: routes\.yaml routes\[0\] \(GET \/api\/orders\/:id\) → service orders$/m);
  assert.match(out, /^params: id = "42"$/m);
  assert.match(out, /^ {2}- every one of the permissions orders:read$/m);
  assert.match(out, /^ {2}- at most 100 requests per 60s per caller and per client IP$/m);
  assert.match(out, /^ {2}- routes\.yaml routes\[1\] \(GET \/api\/:section\/\*\*\): less specific at segment 2 \("orders"\): literal "orders" beats :section$/m);
});

test('ok: explain shows the normalized target and the owner rule in words', () => {
  const result = gatehouse('explain-owner', ['routes', 'explain', 'get', '/api/users/%61lice/orders/']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^target: \/api\/users\/alice\/orders \(normalized\)$/m);
  assert.match(result.stdout, /^ {2}- :userId \("alice"\) equals the caller's sub/m);
});

test('ok: explain a method no rule takes → 405 with Allow', () => {
  const result = gatehouse('explain-405', ['routes', 'explain', 'DELETE', '/api/orders']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^no route takes DELETE here: 405 Method Not Allowed, Allow: POST$/m);
  assert.match(result.stdout, /^ {2}- gatehouse\.yaml routes\[1\] \(POST \/api\/orders\): does not take DELETE$/m);
});

test('ok: explain a path no rule matches → 404, no catch-all', () => {
  const result = gatehouse('explain-404', ['routes', 'explain', 'GET', '/nothing/here']);
  assert.match(result.stdout, /^no route matches: 404 Not Found/m);
});

test('ok: explain a refused target says why and consults no route', () => {
  const result = gatehouse('explain-400', ['routes', 'explain', 'GET', '/admin/%2e%2e/api']);
  assert.match(result.stdout, /^refused: 400 — the path contains a \. or \.\. segment/m);
  assert.doesNotMatch(result.stdout, /^match:/m);
});

test('fail-usage: explain without a target → exit 2', () => {
  const result = gatehouse('usage-missing', ['routes', 'explain', 'GET']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^gatehouse: missing required argument 'target'/);
});

test('fail-usage: explain with a method that is not a token → exit 2', () => {
  const result = gatehouse('usage-method', ['routes', 'explain', 'G T', '/a']);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'gatehouse: not an HTTP method: "G T"\n');
});
