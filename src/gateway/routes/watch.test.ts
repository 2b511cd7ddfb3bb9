/** watchRoutes: a changed file or SIGHUP swaps the table; a bad file is refused once and the old table stays. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../config/index.ts';
import { loadRouteTable, watchRoutes, type RouteTable } from './index.ts';

let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-routes-watch-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

const CONFIG = `
services:
  catalog: ["http://127.0.0.1:9101"]
routes:
  - { methods: [GET], path: /api/books/**, service: catalog, auth: public }
gateway:
  routesFile: routes.yaml
`;
const rules = (...paths: string[]) => `routes:\n${paths.map((p) => `  - { methods: [GET], path: ${p}, service: catalog }\n`).join('')}`;

/** A watched config directory; `events` records every callback, `next()` waits for the next one. */
function setup(name: string) {
  const base = join(dir, name);
  mkdirSync(base);
  writeFileSync(join(base, 'gatehouse.yaml'), CONFIG);
  writeFileSync(join(base, 'routes.yaml'), rules('/v1'));
  const config = loadConfig({ configPath: join(base, 'gatehouse.yaml'), env: {} });
  let table = loadRouteTable(config);
  const events: string[] = [];
  let wake: (() => void) | undefined;
  const watcher = watchRoutes({
    config,
    debounceMs: 50,
    onReload(next) { table = next; events.push('reload'); wake?.(); },
    onRejected(message) { events.push(`rejected: ${message}`); wake?.(); },
  });
  const next = async (): Promise<string> => {
    const seen = events.length;
    const deadline = Date.now() + 5000;
    while (events.length === seen && Date.now() < deadline) await new Promise<void>((resolve) => { wake = resolve; setTimeout(resolve, 100); });
    assert.ok(events.length > seen, 'no reload or rejection within 5 s');
    return events[seen]!;
  };
  const patterns = () => (table as RouteTable).routes.map((r) => r.pattern);
  return { base, events, next, patterns, close: () => watcher.close() };
}

test('ok: a changed routes file replaces the table', async () => {
  const w = setup('change');
  try {
    writeFileSync(join(w.base, 'routes.yaml'), rules('/v2', '/v3'));
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/books/**', '/v2', '/v3']);
  } finally { w.close(); }
});

test('ok: a routes file replaced by rename (as editors save) is picked up', async () => {
  const w = setup('rename');
  try {
    writeFileSync(join(w.base, '.routes.yaml.tmp'), rules('/renamed'));
    renameSync(join(w.base, '.routes.yaml.tmp'), join(w.base, 'routes.yaml'));
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/books/**', '/renamed']);
    // …and the watch survives the rename: the next change is seen too.
    writeFileSync(join(w.base, 'routes.yaml'), rules('/again'));
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/books/**', '/again']);
  } finally { w.close(); }
});

test('ok: a change to routes in gatehouse.yaml replaces the table', async () => {
  const w = setup('config');
  try {
    writeFileSync(join(w.base, 'gatehouse.yaml'), CONFIG.replace('/api/books/**', '/api/v2/books/**'));
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/v2/books/**', '/v1']);
  } finally { w.close(); }
});

test('fail-bad-file: a bad routes file is refused with one line and the old table stays', async () => {
  const w = setup('bad');
  try {
    writeFileSync(join(w.base, 'routes.yaml'), rules('/v1', '/login'));
    const event = await w.next();
    assert.match(event, /^rejected: routes reload refused, the previous rules stay: routes\.yaml routes\[1\]\.path: \/login claims \/login/);
    assert.doesNotMatch(event, /\n/);
    assert.deepEqual(w.patterns(), ['/api/books/**', '/v1']);
    // Saved again unchanged (an editor's second write, a touch): not refused a second time.
    writeFileSync(join(w.base, 'routes.yaml'), rules('/v1', '/login'));
    await sleep(300);
    assert.equal(w.events.length, 1, `refused once, got: ${w.events.join(' | ')}`);
    // Fixed: the next write loads.
    writeFileSync(join(w.base, 'routes.yaml'), rules('/fixed'));
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/books/**', '/fixed']);
  } finally { w.close(); }
});

test('fail-deleted: a deleted routes file is refused and the old table stays', async () => {
  const w = setup('deleted');
  try {
    rmSync(join(w.base, 'routes.yaml'));
    assert.match(await w.next(), /^rejected: .*routes\.yaml: cannot read the file \(ENOENT\)/);
    assert.deepEqual(w.patterns(), ['/api/books/**', '/v1']);
  } finally { w.close(); }
});

test('ok: SIGHUP reloads', async () => {
  const w = setup('sighup');
  try {
    // Let the file event reload first: the SIGHUP reload that follows sees unchanged files, so
    // only the signal can cause it.
    writeFileSync(join(w.base, 'routes.yaml'), rules('/hup'));
    assert.equal(await w.next(), 'reload');
    process.kill(process.pid, 'SIGHUP');
    assert.equal(await w.next(), 'reload');
    assert.deepEqual(w.patterns(), ['/api/books/**', '/hup']);
  } finally { w.close(); }
});

test('ok: after close() neither file changes nor SIGHUP reload', async () => {
  const w = setup('closed');
  w.close();
  writeFileSync(join(w.base, 'routes.yaml'), rules('/after-close'));
  const keepAlive = () => {};
  process.on('SIGHUP', keepAlive); // without any listener SIGHUP would end the test process
  try {
    process.kill(process.pid, 'SIGHUP');
    await sleep(300);
  } finally { process.off('SIGHUP', keepAlive); }
  assert.deepEqual(w.events, []);
});
