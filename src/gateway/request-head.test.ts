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

test('ok: a header is treated the same in every spelling of its name (lower, Title-Case, upper, mixed)', () => {
  const spellings = (name: string) => [name, name.replace(/(^|-)([a-z])/g, (_, d: string, l: string) => d + l.toUpperCase()), name.toUpperCase(), name.replace(/[aeiou]/g, (v) => v.toUpperCase())];
  const dropped = ['x-user', 'x-real-ip', 'proxy-authorization', 'x-http-method-override', 'x-original-url', 'keep-alive', 'te', 'upgrade', 'expect', 'x-gatehouse-sub', 'x-forwarded-port', 'x-forwarded-for', 'forwarded', 'x-request-id', 'traceparent'];
  for (const name of dropped) {
    for (const spelling of spellings(name)) assert.deepEqual(readRequestHead([spelling, 'v'], false).forward, [], `${spelling} must not be forwarded`);
  }
  for (const spelling of spellings('authorization')) assert.equal(readRequestHead([spelling, 'Bearer t'], false).authorization, 'Bearer t', spelling);
  for (const spelling of spellings('content-length')) assert.equal(readRequestHead([spelling, '5'], false).contentLength, '5', spelling);
  for (const spelling of spellings('transfer-encoding')) assert.equal(readRequestHead([spelling, 'chunked'], false).chunked, true, spelling);
  for (const spelling of spellings('x-forwarded-for')) assert.equal(readRequestHead([spelling, '10.0.0.1'], true).forwardedFor, '10.0.0.1', spelling);
  // Headers that go on keep their spelling, listed (user-agent) or not (x-custom).
  for (const name of ['user-agent', 'accept-encoding', 'x-custom']) {
    for (const spelling of spellings(name)) assert.deepEqual(readRequestHead([spelling, 'v'], false).forward, [spelling, 'v'], spelling);
  }
  // A listed header named in Connection is dropped like any other.
  assert.deepEqual(readRequestHead(['User-Agent', 'ua', 'Connection', 'user-agent'], false).forward, []);
});
