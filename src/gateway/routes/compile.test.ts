/** compileRoutes: what a compiled route holds, and every load error (all reported at once, naming their source). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { routeSchema } from '../../config/gateway-schema.ts';
import { compileRoutes, RouteLoadError, type RouteTable } from './index.ts';

const SERVICES = { catalog: ['http://127.0.0.1:9101'], orders: ['http://127.0.0.1:9102'] };

function compile(...rules: Array<Record<string, unknown>>): RouteTable {
  return compileRoutes({ routes: rules.map((rule, i) => ({ rule: routeSchema.parse({ service: 'catalog', methods: ['GET'], ...rule }), source: `r.yaml routes[${i}]` })), services: SERVICES, corsPolicies: ['web'] });
}

function problems(...rules: Array<Record<string, unknown>>): string[] {
  try {
    compile(...rules);
  } catch (error) {
    assert.ok(error instanceof RouteLoadError);
    return error.problems;
  }
  assert.fail('expected a RouteLoadError');
}

function assertProblem(rules: Array<Record<string, unknown>>, pattern: RegExp): void {
  const found = problems(...rules);
  assert.equal(found.length, 1, found.join('\n'));
  assert.match(found[0]!, pattern);
}

test('ok: a compiled route holds its requirements in typed form', () => {
  const [route] = compile({ methods: ['POST'], path: '/api/users/:userId/orders', service: 'orders', permissions: ['orders:create'], roles: ['customer'], scopes: ['orders'], owner: 'params.userId', allowFrom: ['10.0.0.0/8'], rateLimit: { requests: 10, per: '1m' }, timeout: '5s', cors: 'web' }).routes;
  assert.equal(route!.source, 'r.yaml routes[0]');
  assert.equal(route!.auth, 'authenticated');
  assert.equal(route!.owner, 'userId');
  assert.deepEqual(route!.rateLimit, { requests: 10, per: 60 });
  assert.equal(route!.timeout, 5);
  assert.ok(route!.allowFrom!.matches('10.1.2.3'));
  assert.ok(!route!.allowFrom!.matches('192.0.2.1'));
  assert.deepEqual([route!.methods, route!.anyMethod], [['POST'], false]);
});

test('ok: * is expanded for display and marked as any method', () => {
  const [route] = compile({ methods: ['*'], path: '/admin/**' }).routes;
  assert.deepEqual(route!.methods, ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  assert.equal(route!.anyMethod, true);
});

test('ok: routes of one shape with different methods load (GET and POST, GET and HEAD)', () => {
  assert.equal(compile({ methods: ['GET'], path: '/a/:id' }, { methods: ['POST'], path: '/a/:other' }, { methods: ['HEAD'], path: '/a/:x' }).routes.length, 3);
});

test('ok: a catch-all (/**, /:page) may coexist with the gateway\'s own paths', () => {
  assert.equal(compile({ path: '/**' }, { path: '/:page', methods: ['POST'] }, { path: '/loginx' }).routes.length, 3);
});

test('fail-unknown-service: a service not in services', () => {
  assertProblem([{ path: '/a', service: 'billing' }], /^r\.yaml routes\[0\]\.service: unknown service "billing" \(services: catalog, orders\)$/);
});

test('fail-unknown-cors: a CORS policy not in gateway.cors', () => {
  assertProblem([{ path: '/a', cors: 'partners' }], /^r\.yaml routes\[0\]\.cors: unknown CORS policy "partners" \(gateway\.cors: web\)$/);
});

test('fail-owner: owner names a param the path does not have', () => {
  assertProblem([{ path: '/api/users/:id/orders', owner: 'params.userId' }], /routes\[0\]\.owner: params\.userId names no :userId/);
});

for (const [auth, key, value] of [
  ['public', 'permissions', ['orders:read']],
  ['public', 'roles', ['admin']],
  ['public', 'scopes', ['orders']],
  ['public', 'owner', 'params.id'],
  ['passthrough', 'permissions', ['orders:read']],
  ['passthrough', 'owner', 'params.id'],
] as const) {
  test(`fail-auth: auth: ${auth} with ${key}`, () => {
    assertProblem([{ path: '/a/:id', auth, [key]: value }], new RegExp(`routes\\[0\\]\\.auth: auth: ${auth} cannot be combined with ${key}`));
  });
}

for (const path of ['/login', '/login/callback', '/login/:step', '/logout', '/healthz', '/readyz', '/metrics', '/login/**']) {
  test(`fail-reserved: ${path} claims a path the gateway serves`, () => {
    assertProblem([{ path }], /routes\[0\]\.path: .* which the gateway serves itself/);
  });
}

test('fail-pattern: ** before the last segment', () => {
  assertProblem([{ path: '/a/**/b' }], /routes\[0\]\.path: `\*\*` must be the last segment/);
});

test('fail-pattern: an empty segment', () => {
  assertProblem([{ path: '//b' }], /routes\[0\]\.path: empty segment/);
});

test('fail-pattern: a dot segment can never match', () => {
  assertProblem([{ path: '/a/../b' }], /routes\[0\]\.path: segment "\.\." can never match/);
});

test('fail-pattern: a parameter name used twice', () => {
  assertProblem([{ path: '/a/:id/b/:id' }], /routes\[0\]\.path: parameter :id appears twice/);
});

test('fail-pattern: the parameter name __proto__', () => {
  assertProblem([{ path: '/a/:__proto__' }], /routes\[0\]\.path: parameter name :__proto__ is reserved/);
});

test('fail-allowFrom: an empty list admits nobody', () => {
  assertProblem([{ path: '/a', allowFrom: [] }], /routes\[0\]\.allowFrom: an empty list admits no client/);
});

test('fail-overlap: one shape, other param names, one method → both sources named', () => {
  assertProblem([{ path: '/api/orders/:id' }, { path: '/api/orders/:orderId', methods: ['GET', 'POST'] }], /^r\.yaml routes\[1\]\.path: \/api\/orders\/:orderId overlaps r\.yaml routes\[0\] \(\/api\/orders\/:id\): same shape \/api\/orders\/:, both take GET;/);
});

test('fail-overlap: * overlaps any method of the same shape', () => {
  assertProblem([{ path: '/admin/**', methods: ['*'] }, { path: '/admin/**', methods: ['OPTIONS'] }], /overlaps r\.yaml routes\[0\] \(\/admin\/\*\*\): same shape \/admin\/\*\*, both take OPTIONS/);
});

test('fail-overlap: the same rule twice', () => {
  assertProblem([{ path: '/a' }, { path: '/a' }], /routes\[1\]\.path: \/a overlaps r\.yaml routes\[0\]/);
});

test('fail-many: every problem of every rule is reported at once', () => {
  const found = problems({ path: '/a', service: 'billing', cors: 'nope' }, { path: '/login' }, { path: '/b/:id', auth: 'public', roles: ['admin'] }, { path: '/a' });
  assert.equal(found.length, 5, found.join('\n'));
  assert.deepEqual(found.map((p) => p.split(':')[0]), ['r.yaml routes[0].service', 'r.yaml routes[0].cors', 'r.yaml routes[1].path', 'r.yaml routes[2].auth', 'r.yaml routes[3].path']);
});

test('fail-many: the error message names every problem on one line', () => {
  try {
    compile({ path: '/a', service: 'billing' }, { path: '/login' });
    assert.fail('expected a RouteLoadError');
  } catch (error) {
    assert.match((error as Error).message, /^2 problems in routes: r\.yaml routes\[0\]\.service: .*; r\.yaml routes\[1\]\.path: /);
    assert.doesNotMatch((error as Error).message, /\n/);
  }
});
