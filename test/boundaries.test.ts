/** The component boundaries DEVELOPERS.md promises, checked on the source (the SDK's own check is test/sdk-boundary.test.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

function files(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Relative import targets of a file, as repository paths (type-only imports included). */
function imports(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from '(\.[^']+)'/g)].map((m) => relative(ROOT, resolve(dirname(join(ROOT, file)), m[1]!)));
}

const offending = (from: string[], forbidden: (target: string) => boolean) =>
  from.flatMap((file) => imports(file).filter(forbidden).map((target) => `${file} → ${target}`));

test('ok: nothing imports the CLI except the CLI', () => {
  const outside = [...files('src'), ...files('examples'), ...files('bench')].filter((f) => !f.startsWith('src/cli/'));
  assert.deepEqual(offending(outside, (t) => t.startsWith('src/cli/')), []);
});

test('ok: the store imports no component above it', () => {
  assert.deepEqual(offending(files('src/store'), (t) => t.startsWith('src/') && !t.startsWith('src/store/') && !t.startsWith('src/shared/')), []);
});

test('ok: shared imports nothing but shared', () => {
  assert.deepEqual(offending(files('src/shared'), (t) => !t.startsWith('src/shared/')), []);
});

test('ok: policy is pure: it imports only policy', () => {
  assert.deepEqual(offending(files('src/policy'), (t) => !t.startsWith('src/policy/')), []);
});

test('ok: the gateway is stateless and remote: it imports no store, OAuth, identity, tokens, events, admin, pki or service code', () => {
  const forbidden = (t: string) => /^src\/(store|oauth|identity|tokens|events|admin|pki|cli)\//.test(t) || t === 'src/service.ts';
  assert.deepEqual(offending(files('src/gateway'), forbidden), []);
});
