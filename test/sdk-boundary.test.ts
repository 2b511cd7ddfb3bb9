/**
 * The SDK imports nothing of the server side: a service that installs `gatehouse/sdk` pulls in
 * no store, OAuth, identity, admin, CLI or CA server code. Follows relative imports from
 * src/sdk/index.ts transitively.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
const FORBIDDEN = /^src\/(store|oauth|identity|admin|cli|pki|tokens|events|gateway|config)\/|^src\/service\.ts$/;

function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)|import\s+['"](\.[^'"]+)['"]/g)) {
      const spec = match[1] ?? match[2] ?? match[3];
      if (spec) queue.push(resolve(dirname(file), spec));
    }
  }
  return seen;
}

test('ok: src/sdk reaches no server-side module', () => {
  const files = [...reachable(resolve(root, 'src/sdk/index.ts'))].map((f) => relative(root, f));
  assert.ok(files.includes('src/sdk/mtls-server.ts'), 'the walk follows imports');
  assert.deepEqual(files.filter((f) => FORBIDDEN.test(f)), []);
});

test('fail-detects-violation: the walk would catch a server import', () => {
  const files = [...reachable(resolve(root, 'src/pki/index.ts'))].map((f) => relative(root, f));
  assert.ok(files.some((f) => FORBIDDEN.test(f)));
});
