import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logAccess, tenthsOfMs } from './access-log.ts';
import type { Exchange, GatewayState, RouteState } from './exchange.ts';

const observe = () => {};

/** The line logAccess writes for an exchange, parsed (the fields only: `{…}` around them). */
function lineFor(exchange: Partial<Exchange>): Record<string, unknown> {
  const written: string[] = [];
  const state = {
    accessLog: (fields: string) => written.push(fields),
    owned: new Set<string>(),
    metrics: { owned: { observe }, unmatched: { observe }, denied: () => {} },
  } as unknown as GatewayState;
  const base = { req: { method: 'GET' }, res: { headersSent: true, statusCode: 200 }, startedAt: performance.now(), path: '/api/x', client: '192.0.2.7', decision: 'allow' };
  logAccess({ ...base, ...exchange } as unknown as Exchange, state);
  assert.equal(written.length, 1);
  return JSON.parse(`{${written[0]!.slice(1)}}`) as Record<string, unknown>;
}

test('ok: the access-log line is JSON whatever the token\'s sub holds; the route label is written as loaded', () => {
  const sub = 'evil"},"status":200,"x":"\\\n\u0000\ud800';
  const label = 'GET /api/"q"';
  const routeState = { label, labelJson: JSON.stringify(label), metrics: { observe } } as unknown as RouteState;
  const line = lineFor({ requestId: 'req-1', routeState, caller: { subject: sub } as Exchange['caller'], instance: 'http://127.0.0.1:9102' });
  assert.equal(line.sub, sub);
  assert.equal(line.route, label);
  assert.equal(line.status, 200);
  assert.deepEqual(Object.keys(line), ['reqId', 'method', 'path', 'route', 'sub', 'client', 'decision', 'status', 'ms', 'upstream']);
});

test('ok: fields the request never reached are left out; a client gone before the answer is 499', () => {
  const line = lineFor({ res: { headersSent: false, statusCode: 200 } as Exchange['res'], path: '', decision: 'malformed' as Exchange['decision'] });
  assert.deepEqual(Object.keys(line), ['method', 'path', 'client', 'decision', 'status', 'ms']);
  assert.equal(line.status, 499);
});

test('ok: the latency is printed as Math.round(ms * 10) / 10 would print it', () => {
  const samples = [0, 0.04, 0.05, 0.06, 0.95, 1, 1.25, 9.99, 12, 12.34, 99.95, 123.456, 1234.5, 60_000.049, 86_400_000.15];
  for (let i = 0; i < 2000; i++) samples.push(Math.random() * 10 ** (i % 7));
  for (const ms of samples) {
    assert.equal(tenthsOfMs(ms), String(Math.round(ms * 10) / 10), `${ms}`);
    assert.equal(typeof JSON.parse(tenthsOfMs(ms)), 'number');
  }
});
