import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';

await forEachDialect('service shell', (dialect) => {
  let svc: TestService;
  before(async () => { svc = await startService({ dialect }); });
  after(async () => { await svc.close(); });

  test('ok: /healthz and /readyz answer', async () => {
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
    const ready = await fetch(`${svc.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
  });

  test('ok: /metrics is Prometheus text', async () => {
    const res = await fetch(`${svc.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /gatehouse_http_request_duration_seconds/);
  });

  test('fail-unknown-route: problem details with a code and no stack', async () => {
    const res = await fetch(`${svc.url}/no/such/thing`);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.code, 'not_found');
    assert.equal(body.type, 'urn:gatehouse:error:not_found');
    assert.equal(body.status, 404);
    assert.doesNotMatch(JSON.stringify(body), /\n\s+at |\.ts:\d+/);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
  });
});
