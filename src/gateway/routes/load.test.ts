/** loadRouteTable: gatehouse.yaml routes plus gateway.routesFile, every problem named by file and key path. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { loadRouteTable, routeSources, RouteLoadError } from './index.ts';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-routes-load-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

const CONFIG = `
services:
  catalog: ["http://127.0.0.1:9101"]
  orders: ["http://127.0.0.1:9102"]
routes:
  - { methods: [GET], path: /api/books/**, service: catalog, auth: public }
gateway:
  routesFile: conf.d/routes.yaml
`;

/** A config directory of its own per test: gatehouse.yaml + conf.d/routes.yaml. */
function setup(name: string, routesFile: string | undefined, config = CONFIG) {
  const base = join(dir, name);
  mkdirSync(join(base, 'conf.d'), { recursive: true });
  writeFileSync(join(base, 'gatehouse.yaml'), config);
  if (routesFile !== undefined) writeFileSync(join(base, 'conf.d', 'routes.yaml'), routesFile);
  return loadConfig({ configPath: join(base, 'gatehouse.yaml'), env: {} });
}

function problemsOf(load: () => unknown): string[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof RouteLoadError, String(error));
    return error.problems;
  }
  assert.fail('expected a RouteLoadError');
}

test('ok: the routes file (relative to the config file) adds to the config\'s routes, each labelled with its source', () => {
  const config = setup('both', 'routes:\n  - { methods: [POST], path: /api/orders, service: orders, permissions: [orders:create] }\n');
  const table = loadRouteTable(config);
  assert.deepEqual(table.routes.map((r) => [r.source, r.pattern]), [['gatehouse.yaml routes[0]', '/api/books/**'], ['routes.yaml routes[0]', '/api/orders']]);
  assert.deepEqual(routeSources(config), ['gatehouse.yaml', 'routes.yaml']);
});

test('ok: without a routes file only the config\'s routes load', () => {
  const config = setup('config-only', undefined, CONFIG.replace(/gateway:[\s\S]*/, ''));
  assert.equal(loadRouteTable(config).routes.length, 1);
  assert.deepEqual(routeSources(config), ['gatehouse.yaml']);
});

test('ok: an overlap across the two files names both', () => {
  const config = setup('overlap', 'routes:\n  - { methods: [GET], path: /api/books/**, service: catalog }\n');
  assert.match(problemsOf(() => loadRouteTable(config))[0]!, /^routes\.yaml routes\[0\]\.path: .* overlaps gatehouse\.yaml routes\[0\]/);
});

test('fail-missing: a routes file that does not exist', () => {
  const config = setup('missing', undefined);
  assert.deepEqual(problemsOf(() => loadRouteTable(config)), ['routes.yaml: cannot read the file (ENOENT)']);
});

test('fail-empty: an empty routes file is refused, not read as no routes', () => {
  const config = setup('empty', '  \n');
  assert.deepEqual(problemsOf(() => loadRouteTable(config)), ['routes.yaml: the file is empty (expected a routes: list)']);
});

test('fail-yaml: a routes file that is not YAML', () => {
  const config = setup('yaml', 'routes: [ {\n');
  assert.match(problemsOf(() => loadRouteTable(config))[0]!, /^routes\.yaml: not valid YAML: /);
});

test('fail-shape: a routes file that is a list, not a mapping', () => {
  const config = setup('list', '- { methods: [GET], path: /a, service: catalog }\n');
  assert.deepEqual(problemsOf(() => loadRouteTable(config)), ['routes.yaml: expected a mapping with a routes: list']);
});

test('fail-shape: a routes file with another key', () => {
  const config = setup('extra-key', 'routes: []\nservices: {}\n');
  assert.deepEqual(problemsOf(() => loadRouteTable(config)), ['routes.yaml services: unknown key (a routes file holds only routes:)']);
});

test('fail-schema: a bad field names the file and key path; the other rules are still checked', () => {
  const config = setup('schema', `routes:
  - { methods: [GET], path: /ok, service: orders }
  - { methods: [FETCH], path: /a, service: orders }
  - { methods: [GET], path: /b, service: billing }
`);
  const found = problemsOf(() => loadRouteTable(config));
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(found[0]!, /^routes\.yaml routes\[1\]\.methods\[0\]: /);
  assert.match(found[1]!, /^routes\.yaml routes\[2\]\.service: unknown service "billing"/);
});

test('ok: rereadConfig takes routes from the config file as it is now', () => {
  const config = setup('reread', 'routes: []\n');
  writeFileSync(config.source, CONFIG.replace('/api/books/**', '/api/v2/books/**'));
  assert.equal(loadRouteTable(config).routes[0]!.pattern, '/api/books/**');
  assert.equal(loadRouteTable(config, { rereadConfig: true }).routes[0]!.pattern, '/api/v2/books/**');
});

test('fail-schema: a bad rule in the config file on reread names gatehouse.yaml and its key path', () => {
  const config = setup('reread-bad', 'routes: []\n');
  writeFileSync(config.source, CONFIG.replace('path: /api/books/**', 'path: api'));
  assert.match(problemsOf(() => loadRouteTable(config, { rereadConfig: true }))[0]!, /^gatehouse\.yaml routes\[0\]\.path: /);
});
