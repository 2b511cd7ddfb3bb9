/** RouteTable.match: precedence, backtracking, HEAD, `*`, 404 and 405 with Allow. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeSchema } from '../../config/gateway-schema.ts';
import { normalizeTarget } from '../request-target.ts';
import { compileRoutes, type RouteMatch, type RouteTable } from './index.ts';

const SERVICES = { catalog: ['http://127.0.0.1:9101'], orders: ['http://127.0.0.1:9102'], backoffice: ['http://127.0.0.1:9103'] };

function table(...rules: Array<Record<string, unknown>>): RouteTable {
  return compileRoutes({ routes: rules.map((rule, i) => ({ rule: routeSchema.parse({ service: 'catalog', ...rule }), source: `test routes[${i}]` })), services: SERVICES, corsPolicies: [] });
}

function match(routes: RouteTable, method: string, target: string): RouteMatch {
  const normalized = normalizeTarget(target, 8192);
  assert.ok(normalized.ok, target);
  return routes.match(method, normalized.segments);
}

/** `test routes[i]` of the winning route, or the kind of the answer. */
function winner(routes: RouteTable, method: string, target: string): string {
  const result = match(routes, method, target);
  return result.kind === 'route' ? result.route.source : result.kind;
}

test('ok: a literal route matches its own path only', () => {
  const routes = table({ methods: ['GET'], path: '/api/books' });
  assert.equal(winner(routes, 'GET', '/api/books'), 'test routes[0]');
  assert.equal(winner(routes, 'GET', '/api/books/1'), 'not_found');
  assert.equal(winner(routes, 'GET', '/api'), 'not_found');
});

test('ok: a trailing slash reaches the route without it', () => {
  assert.equal(winner(table({ methods: ['GET'], path: '/api/books' }), 'GET', '/api/books/'), 'test routes[0]');
});

test('ok: the root pattern matches / only', () => {
  const routes = table({ methods: ['GET'], path: '/' });
  assert.equal(winner(routes, 'GET', '/'), 'test routes[0]');
  assert.equal(winner(routes, 'GET', '/x'), 'not_found');
});

test('ok: literal beats :param, whatever the order of the rules', () => {
  for (const rules of [
    [{ methods: ['GET'], path: '/api/books/:id' }, { methods: ['GET'], path: '/api/books/new' }],
    [{ methods: ['GET'], path: '/api/books/new' }, { methods: ['GET'], path: '/api/books/:id' }],
  ]) {
    const routes = table(...rules);
    assert.equal((match(routes, 'GET', '/api/books/new') as { route: { pattern: string } }).route.pattern, '/api/books/new');
    assert.equal((match(routes, 'GET', '/api/books/42') as { route: { pattern: string } }).route.pattern, '/api/books/:id');
  }
});

test('ok: :param beats **, whatever the order of the rules', () => {
  const routes = table({ methods: ['GET'], path: '/api/**' }, { methods: ['GET'], path: '/api/:section' });
  assert.equal(winner(routes, 'GET', '/api/books'), 'test routes[1]');
  assert.equal(winner(routes, 'GET', '/api/books/1'), 'test routes[0]');
});

test('ok: precedence is decided at the first segment where the patterns differ', () => {
  // `/api/:x/literal` loses to `/api/books/:y` for /api/books/literal: at segment 2 literal beats param.
  const routes = table({ methods: ['GET'], path: '/api/:x/details' }, { methods: ['GET'], path: '/api/books/:y' });
  assert.equal(winner(routes, 'GET', '/api/books/details'), 'test routes[1]');
});

test('ok: a dead end on the literal branch backtracks to :param', () => {
  const routes = table({ methods: ['GET'], path: '/a/b/d' }, { methods: ['GET'], path: '/a/:x/c' });
  assert.equal(winner(routes, 'GET', '/a/b/c'), 'test routes[1]');
  assert.deepEqual((match(routes, 'GET', '/a/b/c') as { params: object }).params, { x: 'b' });
});

test('ok: a dead end backtracks to ** at a shallower segment', () => {
  const routes = table({ methods: ['GET'], path: '/a/b/c' }, { methods: ['GET'], path: '/a/:x/c' }, { methods: ['GET'], path: '/a/**' });
  assert.equal(winner(routes, 'GET', '/a/b/d'), 'test routes[2]');
});

test('ok: ** matches one or more segments, never zero', () => {
  const routes = table({ methods: ['GET'], path: '/api/books/**' });
  assert.equal(winner(routes, 'GET', '/api/books/1'), 'test routes[0]');
  assert.equal(winner(routes, 'GET', '/api/books/1/reviews/2'), 'test routes[0]');
  assert.equal(winner(routes, 'GET', '/api/books'), 'not_found');
});

test('ok: params are the decoded segments', () => {
  const routes = table({ methods: ['GET'], path: '/users/:userId/orders/:orderId' });
  assert.deepEqual((match(routes, 'GET', '/users/%7Ebob%E2%82%AC/orders/a%20b') as { params: object }).params, { userId: '~bob€', orderId: 'a b' });
});

test('ok: each route names its own params at a shared position', () => {
  const routes = table({ methods: ['GET'], path: '/users/:id/profile' }, { methods: ['GET'], path: '/users/:userId/orders' });
  assert.deepEqual((match(routes, 'GET', '/users/u1/profile') as { params: object }).params, { id: 'u1' });
  assert.deepEqual((match(routes, 'GET', '/users/u1/orders') as { params: object }).params, { userId: 'u1' });
});

test('ok: a route without params answers the same frozen match every time (no allocation)', () => {
  const routes = table({ methods: ['GET'], path: '/api/books' });
  assert.equal(match(routes, 'GET', '/api/books'), match(routes, 'GET', '/api/books'));
});

test('ok: the most specific route that takes the method wins; others fall through to a less specific one', () => {
  const routes = table({ methods: ['GET'], path: '/api/books/**', auth: 'public' }, { methods: ['POST'], path: '/api/books/:id', permissions: ['books:write'] });
  assert.equal(winner(routes, 'GET', '/api/books/1'), 'test routes[0]');
  assert.equal(winner(routes, 'POST', '/api/books/1'), 'test routes[1]');
});

test('ok: HEAD follows GET', () => {
  assert.equal(winner(table({ methods: ['GET'], path: '/api/books' }), 'HEAD', '/api/books'), 'test routes[0]');
});

test('ok: a HEAD route of the same shape takes HEAD from the GET route', () => {
  const routes = table({ methods: ['GET'], path: '/files/:id' }, { methods: ['HEAD'], path: '/files/:name', service: 'orders' });
  assert.equal(winner(routes, 'HEAD', '/files/a'), 'test routes[1]');
  assert.equal(winner(routes, 'GET', '/files/a'), 'test routes[0]');
});

test('ok: HEAD goes to the most specific GET route, not to a less specific HEAD route', () => {
  const routes = table({ methods: ['HEAD'], path: '/files/**' }, { methods: ['GET'], path: '/files/:id' });
  assert.equal(winner(routes, 'HEAD', '/files/a'), 'test routes[1]');
});

test('ok: * takes every method Node accepts except TRACE, TRACK and CONNECT', () => {
  const routes = table({ methods: ['*'], path: '/admin/**', roles: ['admin'] });
  for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND', 'MKCOL']) assert.equal(winner(routes, method, '/admin/x'), 'test routes[0]', method);
});

for (const method of ['TRACE', 'TRACK', 'CONNECT']) {
  test(`fail-method: * does not take ${method} → 405`, () => {
    const result = match(table({ methods: ['*'], path: '/admin/**' }), method, '/admin/x');
    assert.deepEqual(result, { kind: 'method_not_allowed', allow: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] });
  });
}

test('fail-method: methods are case-sensitive (get is not GET)', () => {
  assert.equal(winner(table({ methods: ['GET'], path: '/a' }), 'get', '/a'), 'method_not_allowed');
});

test('fail-405: a route for the path but not the method → Allow lists its methods, HEAD with GET', () => {
  const result = match(table({ methods: ['GET', 'POST'], path: '/api/orders' }), 'DELETE', '/api/orders');
  assert.deepEqual(result, { kind: 'method_not_allowed', allow: ['GET', 'HEAD', 'POST'] });
});

test('fail-405: Allow is the union over every pattern that matches the path', () => {
  const routes = table({ methods: ['GET'], path: '/api/orders/**' }, { methods: ['PUT'], path: '/api/orders/:id' }, { methods: ['PATCH'], path: '/api/:x/:y' }, { methods: ['DELETE'], path: '/api/other/:id' });
  assert.deepEqual(match(routes, 'POST', '/api/orders/1'), { kind: 'method_not_allowed', allow: ['GET', 'HEAD', 'PUT', 'PATCH'] });
});

test('fail-404: no pattern matches → not_found', () => {
  assert.deepEqual(match(table({ methods: ['GET'], path: '/api/books' }), 'GET', '/api/orders'), { kind: 'not_found' });
});

test('fail-404: there is no implicit catch-all', () => {
  const routes = table();
  assert.deepEqual(match(routes, 'GET', '/'), { kind: 'not_found' });
  assert.deepEqual(match(routes, 'GET', '/anything'), { kind: 'not_found' });
});
