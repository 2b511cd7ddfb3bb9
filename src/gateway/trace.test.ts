import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newRequestId, newTraceparent, requestId, validTraceparent } from './trace.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ok: a new request id is a version 4 UUID, unique, and every variant digit occurs', () => {
  const seen = new Set<string>();
  const variants = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = newRequestId();
    assert.match(id, UUID_V4);
    assert.ok(!seen.has(id), `repeated ${id}`);
    seen.add(id);
    variants.add(id[19]!);
  }
  assert.deepEqual([...variants].sort(), ['8', '9', 'a', 'b']);
});

test('ok: a new traceparent is valid W3C Trace Context, unique, and does not repeat the digits of the request id made with it', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) {
    const id = newRequestId().replaceAll('-', '');
    const traceparent = newTraceparent();
    assert.ok(validTraceparent(traceparent), traceparent);
    const [, traceId, parentId] = traceparent.split('-');
    for (const part of [traceId!, parentId!]) {
      assert.ok(!seen.has(part), `repeated ${part}`);
      seen.add(part);
    }
    assert.ok(!traceId!.includes(id.slice(0, 12)) && !id.includes(traceId!.slice(0, 12)));
  }
});

test('ok: a sane client request id is kept; a missing or unsafe one is replaced by a new UUID', () => {
  assert.equal(requestId('client-req.42'), 'client-req.42');
  assert.match(requestId(undefined), UUID_V4);
  assert.match(requestId('has space'), UUID_V4);
  assert.match(requestId('x'.repeat(129)), UUID_V4);
});
