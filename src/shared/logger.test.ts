import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger, infoLineWriter } from './logger.ts';

function capture(level: string) {
  const lines: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => { lines.push(line); } } });
  return { logger, lines };
}

test('ok: infoLineWriter writes the line pino writes for the same fields (time aside)', () => {
  const { logger, lines } = capture('info');
  const fields = { reqId: 'r-1', path: '/api/"x"', status: 200, ms: 1.5 };
  logger.info(fields, 'request');
  infoLineWriter(logger, 'request')(`,${JSON.stringify(fields).slice(1, -1)}`);
  assert.equal(lines.length, 2);
  const [byPino, byWriter] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(typeof byWriter!.time, 'number');
  assert.deepEqual({ ...byWriter, time: 0 }, { ...byPino, time: 0 });
  assert.deepEqual(Object.keys(byWriter!), Object.keys(byPino!));
  assert.ok(lines[1]!.endsWith('}\n'));
});

test('ok: infoLineWriter of a child logger carries its bindings', () => {
  const { logger, lines } = capture('info');
  infoLineWriter(logger.child({ component: 'gateway' }), 'request')(',"status":200');
  assert.equal((JSON.parse(lines[0]!) as { component: string }).component, 'gateway');
});

test('ok: infoLineWriter writes nothing while the logger is above info', () => {
  const { logger, lines } = capture('warn');
  const write = infoLineWriter(logger, 'request');
  write(',"status":200');
  assert.equal(lines.length, 0);
  logger.level = 'info';
  write(',"status":200');
  assert.equal(lines.length, 1);
});
