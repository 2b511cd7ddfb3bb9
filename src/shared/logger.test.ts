import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openSync, readFileSync, closeSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, infoLineWriter, batchedDestination } from './logger.ts';

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

test('ok: the batched destination writes every line whole and in order: multi-byte text, batches past 256 KiB, a line longer than a buffer (512 KiB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-'));
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'w');
  try {
    const destination = batchedDestination(fd);
    const lines: string[] = [];
    // ≈ 700 KB of lines: more than two batches.
    for (let i = 0; i < 20_000; i++) lines.push(`{"n":${i},"sub":"zoë-${'€'.repeat(i % 7)}-😀"}\n`);
    lines.splice(10_000, 0, `{"big":"${'é'.repeat(300_000)}"}\n`);
    for (const line of lines) destination.write(line);
    await new Promise<void>((resolve, reject) => destination.flush((error) => (error ? reject(error) : resolve())));
    assert.equal(readFileSync(file, 'utf8'), lines.join(''));
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ok: a line written to the batched destination goes out within its delay, without a flush', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-log-'));
  const file = join(dir, 'out.log');
  const fd = openSync(file, 'w');
  try {
    batchedDestination(fd).write('{"one":1}\n');
    assert.equal(readFileSync(file, 'utf8'), '');
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(readFileSync(file, 'utf8'), '{"one":1}\n');
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});
