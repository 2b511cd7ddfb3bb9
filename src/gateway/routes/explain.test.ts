/** RouteTable.explain: the lines `gatehouse routes explain` prints (the CLI test covers the process). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeSchema } from '../../config/gateway-schema.ts';
import { compileRoutes, type RouteTable } from './index.ts';

function table(...rules: Array<Record<string, unknown>>): RouteTable {
  return compileRoutes({ routes: rules.map((rule, i) => ({ rule: routeSchema.parse({ service: 'catalog', methods: ['GET'], ...rule }), source: `t routes[${i}]` })), services: { catalog: ['http://127.0.0.1:9101'] }, corsPolicies: ['web'] });
}

test('ok: a HEAD rule of the same shape is named as the reason the GET rule lost', () => {
  const lines = table({ path: '/files/:id' }, { path: '/files/:name', methods: ['HEAD'] }).explain('HEAD', '/files/a');
  assert.ok(lines.includes('match: t routes[1] (HEAD /files/:name) → service catalog'), lines.join('\n'));
  assert.ok(lines.includes('  - t routes[0] (GET /files/:id): HEAD goes to the rule of the same shape that names HEAD'), lines.join('\n'));
});

test('ok: a public route says so, and * routes show as *', () => {
  const lines = table({ path: '/pub/**', methods: ['*'], auth: 'public', cors: 'web', timeout: '3s' }).explain('PROPFIND', '/pub/x');
  assert.ok(lines.includes('match: t routes[0] (* /pub/**) → service catalog'), lines.join('\n'));
  assert.ok(lines.includes('  - anonymous callers pass; no token is forwarded'));
  assert.ok(lines.includes('also: upstream timeout 3s, CORS policy web'));
});

test('ok: allowFrom, roles and scopes are described', () => {
  const lines = table({ path: '/admin', roles: ['admin', 'staff'], scopes: ['admin'], allowFrom: ['10.0.0.0/8'] }).explain('GET', '/admin');
  for (const line of ['  - at least one of the roles admin, staff', '  - every one of the scopes admin in the token', '  - a client address in 10.0.0.0/8']) assert.ok(lines.includes(line), line);
});

test('ok: the gateway\'s own paths are named as such', () => {
  assert.ok(table({ path: '/**' }).explain('GET', '/healthz').includes('reserved: /healthz is served by the gateway itself; routes are not consulted'));
});

test('fail-too-long: a target over the maximum is explained as 414', () => {
  assert.match(table({ path: '/a' }).explain('GET', `/${'a'.repeat(300)}`, 256)[1]!, /^refused: 414 — the request target is too long/);
});
