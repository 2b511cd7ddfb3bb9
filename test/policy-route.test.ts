/** GET /policy over real HTTP: the compiled document with a strong ETag, caching and 304. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { startService, type TestService } from './helpers/service.ts';
import { compilePolicy } from '../src/policy/index.ts';

let svc: TestService;
const roles = { reader: ['books:read'], customer: ['orders:create', 'orders:read:own'] };
before(async () => { svc = await startService({ config: { roles } }); });
after(async () => { await svc.close(); });

test('ok: the policy document with version, strong ETag and Cache-Control', async () => {
  const res = await fetch(`${svc.url}/policy`);
  assert.equal(res.status, 200);
  const body = await res.json() as { version: string; roles: Record<string, string[]> };
  assert.deepEqual(body, compilePolicy(roles).document);
  assert.equal(res.headers.get('etag'), `"${body.version}"`);
  assert.match(res.headers.get('cache-control') ?? '', /max-age=\d+/);
});

test('ok: If-None-Match with the current ETag → 304 without a body', async () => {
  const etag = (await fetch(`${svc.url}/policy`)).headers.get('etag')!;
  const res = await fetch(`${svc.url}/policy`, { headers: { 'if-none-match': etag } });
  assert.equal(res.status, 304);
  assert.equal(res.headers.get('etag'), etag);
  assert.equal(await res.text(), '');
});

test('fail-stale-etag: another ETag gets the full document', async () => {
  const res = await fetch(`${svc.url}/policy`, { headers: { 'if-none-match': '"0000000000000000"' } });
  assert.equal(res.status, 200);
});

test('ok: policy/ is pure — it imports nothing but types and its own files', () => {
  const dir = new URL('../src/policy/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    for (const [statement] of source.matchAll(/^import .*? from '[^']+';$/gm)) {
      const ok = statement.startsWith('import type ') || /from '\.\/[a-z-]+\.ts'/.test(statement);
      assert.ok(ok, `${file}: ${statement}`);
    }
  }
});
