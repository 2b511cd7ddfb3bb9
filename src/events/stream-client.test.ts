import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSseParser } from './stream-client.ts';
import { eventFromClaims, eventClaims } from './set-codec.ts';
import type { SecurityEvent } from './types.ts';

function parseAll(chunks: string[]) {
  const messages: Array<{ id: string | undefined; event: string; data: string }> = [];
  const parse = createSseParser((m) => messages.push(m));
  for (const chunk of chunks) parse(chunk);
  return messages;
}

test('ok: SSE parser handles split chunks, CRLF, comments and multi-line data', () => {
  const text = ': hello\r\nid: 7\r\nevent: tokens.revoked\r\ndata: a\r\ndata: b\r\n\r\n: heartbeat\n\nid: 8\ndata:c\n\n';
  const expected = [{ id: '7', event: 'tokens.revoked', data: 'a\nb' }, { id: '8', event: 'message', data: 'c' }];
  assert.deepEqual(parseAll([text]), expected);
  // Every split point, including between '\r' and '\n', gives the same messages.
  for (let i = 1; i < text.length; i += 1) assert.deepEqual(parseAll([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
});

test('ok: every event type survives the SET claims round trip', () => {
  const events: SecurityEvent[] = [
    { type: 'tokens.revoked', subject: 'u', sessionId: 's', tokenIds: ['j'], issuedBefore: 5, until: 9, reason: 'logout' },
    { type: 'tokens.revoked', subject: 'u', tokenIds: [], issuedBefore: 5, until: 9, reason: 'user_disabled' },
    { type: 'certificate.revoked', serials: ['0a'], service: 'orders', until: 9, reason: 'keyCompromise' },
    { type: 'keys.rotated', activeKid: 'k' },
    { type: 'policy.changed', version: 'v1' },
  ];
  for (const event of events) assert.deepEqual(eventFromClaims(eventClaims(event, 'https://iss', 1)), event);
  assert.equal(eventFromClaims({ events: { 'urn:example:unknown': {} } }), null, 'unknown types are ignored');
});

test('ok: the stream client imports nothing of the server side', () => {
  for (const file of ['stream-client.ts', 'set-codec.ts']) {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import (type )?.* from '([^']+)';$/gm)].map((m) => ({ type: Boolean(m[1]), from: m[2]! }));
    for (const { type, from } of imports) {
      assert.ok(type || from === 'jose' || from === './set-codec.ts', `${file} imports ${from}`);
    }
  }
});
