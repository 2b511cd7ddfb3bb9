/**
 * The gateway's per-request routing cost on one core: normalizeTarget and RouteTable.match over a
 * 50-route table (literals, params, `**`, several methods per shape), on a mix of targets that hit
 * literal, param and `**` routes, plus 405 and 404 answers. `npm run bench -- match`, or directly:
 * `npm exec -- node bench/gateway-match.ts [seconds]`. Prints a markdown table.
 */
import { routeSchema } from '../src/config/gateway-schema.ts';
import { normalizeTarget } from '../src/gateway/request-target.ts';
import { compileRoutes } from '../src/gateway/routes/index.ts';

const seconds = Number(process.argv[2] ?? 1);
const resources = ['books', 'orders', 'users', 'reviews', 'carts', 'payments', 'invoices', 'shipments', 'authors', 'stores'];
const rules: Array<Record<string, unknown>> = [];
for (const name of resources) {
  rules.push({ methods: ['GET'], path: `/api/${name}`, auth: 'public' });
  rules.push({ methods: ['POST'], path: `/api/${name}`, permissions: [`${name}:create`] });
  rules.push({ methods: ['GET', 'PUT', 'DELETE'], path: `/api/${name}/:id`, permissions: [`${name}:read`] });
  rules.push({ methods: ['GET'], path: `/api/${name}/:id/history/**` });
  rules.push({ methods: ['GET'], path: `/api/users/:userId/${name}`, owner: 'params.userId' });
}
rules.splice(rules.findIndex((r) => r.path === '/api/users/:userId/users'), 1, { methods: ['*'], path: '/admin/**', roles: ['admin'] });
const table = compileRoutes({
  routes: rules.map((rule, i) => ({ rule: routeSchema.parse({ service: 'svc', ...rule }), source: `bench routes[${i}]` })),
  services: { svc: ['http://127.0.0.1:9100'] },
  corsPolicies: [],
});
if (table.routes.length !== 50) throw new Error(`expected 50 routes, got ${table.routes.length}`);

const requests: Array<[string, string]> = [
  ['GET', '/api/books'],
  ['GET', '/api/orders/4711'],
  ['PUT', '/api/payments/p-93d1c0'],
  ['GET', '/api/users/alice/orders'],
  ['GET', '/api/invoices/2024-17/history/2024/03/01'],
  ['DELETE', '/admin/api/users/42'],
  ['GET', '/api/books/%E2%82%AC%20sale?page=2&sort=asc'],
  ['PATCH', '/api/orders/4711'], // 405
  ['GET', '/static/app.js'], // 404
];
const normalized = requests.map(([method, target]) => {
  const result = normalizeTarget(target, 8192);
  if (!result.ok) throw new Error(`${target}: ${result.reason}`);
  return [method, result.segments] as const;
});

function measure(run: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += run(i) === undefined ? 0 : 1; // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < end) {
    for (let i = 0; i < 10_000; i++) sink += run(n + i) === undefined ? 0 : 1;
    n += 10_000;
  }
  if (sink < 0) console.log(sink);
  return Number(process.hrtime.bigint() - start) / n;
}

const matchNs = measure((i) => { const [method, segments] = normalized[i % normalized.length]!; return table.match(method, segments); });
const normalizeNs = measure((i) => normalizeTarget(requests[i % requests.length]![1], 8192));
const bothNs = measure((i) => {
  const [method, target] = requests[i % requests.length]!;
  const result = normalizeTarget(target, 8192);
  return result.ok ? table.match(method, result.segments) : undefined;
});

console.log(`${table.routes.length} routes, ${requests.length} targets in rotation (hits on literal, :param and \`**\` routes, a 405, a 404), ${seconds} s per row\n`);
console.log('| step | ns per request |');
console.log('|---|---:|');
console.log(`| RouteTable.match (decoded segments) | ${matchNs.toFixed(0)} |`);
console.log(`| normalizeTarget | ${normalizeNs.toFixed(0)} |`);
console.log(`| normalizeTarget + match | ${bothNs.toFixed(0)} |`);
