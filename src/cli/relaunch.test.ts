import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandWords } from './relaunch.ts';

test('ok: the command words of a command line leave out the root options and their values, in any position', () => {
  assert.deepEqual(commandWords(['serve', 'gateway']), ['serve', 'gateway']);
  assert.deepEqual(commandWords(['--config', 'serve', 'serve', 'gateway']), ['serve', 'gateway']);
  assert.deepEqual(commandWords(['-c', 'gatehouse.yaml', '-d', '/data', 'serve', 'gateway']), ['serve', 'gateway']);
  assert.deepEqual(commandWords(['serve', '--config=gatehouse.yaml', 'gateway']), ['serve', 'gateway']);
  assert.deepEqual(commandWords(['serve', 'auth', '-p', '8080']), ['serve', 'auth', '8080']);
  assert.deepEqual(commandWords(['--help']), []);
});
