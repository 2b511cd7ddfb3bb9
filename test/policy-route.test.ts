/** GET /policy over real HTTP: the compiled document with a strong ETag, caching and 304. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

test('ok: a weak or listed If-None-Match revalidates too (RFC 9110 weak comparison)', async () => {
  const etag = (await fetch(`${svc.url}/policy`)).headers.get('etag')!;
  for (const header of [`W/${etag}`, `"other", ${etag}`]) assert.equal((await fetch(`${svc.url}/policy`, { headers: { 'if-none-match': header } })).status, 304, header);
});

test('fail-stale-etag: another ETag gets the full document', async () => {
  const res = await fetch(`${svc.url}/policy`, { headers: { 'if-none-match': '"0000000000000000"' } });
  assert.equal(res.status, 200);
});
