import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitInWords } from './html.ts';

test('ok: a wait reads as English: 1 second, 45 seconds, 2 minutes', () => {
  assert.deepEqual([1, 2, 45, 89, 90, 120, 900].map(waitInWords), ['1 second', '2 seconds', '45 seconds', '89 seconds', '2 minutes', '2 minutes', '15 minutes']);
});
