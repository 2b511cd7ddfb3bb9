/** The docs are part of the product: these checks keep them true to the code. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorCatalogue } from '../src/shared/errors.ts';
import { auditEvents } from '../src/events/audit.ts';
import { renderConfigReference } from '../src/config/reference.ts';

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

test('ok: every error code is documented in docs/errors.md and every documented code exists', () => {
  const documented = [...read('docs/errors.md').matchAll(/^### `([a-z_]+)`$/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), Object.keys(errorCatalogue).sort());
});

test('ok: every audit event is documented in docs/audit-events.md and every documented event exists', () => {
  const documented = [...read('docs/audit-events.md').matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...documented].sort(), [...auditEvents].sort());
});

test('ok: docs/configuration.md is the reference generated from the schema', () => {
  assert.equal(read('docs/configuration.md'), renderConfigReference(), 'run: npm run gatehouse -- config docs > docs/configuration.md');
});

test('ok: gatehouse.example.yaml is valid and shows exactly the defaults', async () => {
  const { loadConfig } = await import('../src/config/load.ts');
  const { configSchema } = await import('../src/config/schema.ts');
  const { source: _source, ...example } = loadConfig({ configPath: new URL('../gatehouse.example.yaml', import.meta.url).pathname, env: {} });
  assert.deepEqual(example, configSchema.parse({}));
});
