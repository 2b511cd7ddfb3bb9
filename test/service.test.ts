import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';

await forEachDialect('service shell', (dialect) => {
  let svc: TestService;
  // A route that fails unexpectedly, for the 500 page (the shell's error handler is what is tested).
  before(async () => { svc = await startService({ dialect, beforeListen: async (service) => { service.app.get('/test/boom', async () => { throw new Error('kaboom at /secret/path.ts:12'); }); } }); });
  const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
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

  test('ok: a browser (Accept: text/html) gets an HTML 404 page; curl (*/*) and JSON clients get problem details', async () => {
    const page = await fetch(`${svc.url}/no/such/thing`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.match(await page.text(), /<h1>No such resource<\/h1>[\s\S]*<code>not_found<\/code>/);
    for (const accept of ['*/*', 'application/json', 'application/problem+json']) {
      const res = await fetch(`${svc.url}/no/such/thing`, { headers: { accept } });
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, accept);
    }
  });

  test('ok: an unexpected failure is an HTML 500 page for a browser, without the error\'s message or stack', async () => {
    const page = await fetch(`${svc.url}/test/boom`, { headers: { accept: BROWSER_ACCEPT } });
    assert.equal(page.status, 500);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /<code>internal_error<\/code>/);
    assert.doesNotMatch(html, /kaboom|secret|\.ts:\d+/);
    assert.match((await fetch(`${svc.url}/test/boom`)).headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  test('ok: /favicon.ico is the SVG mark with a long cache, and pages link it', async () => {
    const icon = await fetch(`${svc.url}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    assert.match(icon.headers.get('cache-control') ?? '', /max-age=604800/);
    assert.match(await icon.text(), /^<svg /);
    const page = await fetch(`${svc.url}/no/such/thing`, { headers: { accept: BROWSER_ACCEPT } });
    assert.match(await page.text(), /<link rel="icon" href="\/favicon\.ico"/);
  });
});
