import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRequestHead } from './request-head.ts';

const names = (forward: string[]) => forward.filter((_, i) => i % 2 === 0);

test('ok: ordinary headers are kept in order and spelling; identity-shaped ones are dropped', () => {
  const head = readRequestHead(['Accept', 'a/b', 'X-User', 'admin', 'X-Gatehouse-Sub', 'x', 'x-forwarded-port', '1', 'X-Custom', 'y', 'Authorization', 'Bearer t'], false);
  assert.deepEqual(head.forward, ['Accept', 'a/b', 'X-Custom', 'y']);
  assert.equal(head.authorization, 'Bearer t');
});

test('ok: headers named in Connection are dropped, but never the framing the gateway sets itself', () => {
  const head = readRequestHead(['X-A', '1', 'Connection', 'keep-alive, X-A, content-length', 'Content-Length', '2', 'X-B', '2'], false);
  assert.deepEqual(names(head.forward), ['X-B']);
  assert.equal(head.contentLength, '2');
});

test('ok: forwarding headers are read only from a trusted peer', () => {
  const raw = ['X-Forwarded-For', '10.0.0.1', 'X-Forwarded-For', '10.0.0.2', 'X-Forwarded-Proto', 'https', 'Forwarded', 'for=10.0.0.1'];
  const untrusted = readRequestHead(raw, false);
  assert.equal(untrusted.forwardedFor, undefined);
  assert.deepEqual(untrusted.forward, []);
  const trusted = readRequestHead(raw, true);
  assert.equal(trusted.forwardedFor, '10.0.0.1, 10.0.0.2');
  assert.equal(trusted.forwardedProto, 'https');
  assert.deepEqual(trusted.forward, ['Forwarded', 'for=10.0.0.1']);
});
