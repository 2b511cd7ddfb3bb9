import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTokenCache, tokenKey } from './token-cache.ts';
import type { Identity } from './types.ts';

const identity = (subject: string) => ({ subject }) as unknown as Identity;
/** A JWS-shaped string whose signature segment is `signature`. */
const jws = (payload: string, signature: string) => `eyJhbGciOiJFUzI1NiJ9.${payload}.${signature}`;
/** A cache of 10 holding `entries` ([token, subject]), set in order, valid until 1000. */
function cacheWith(...entries: Array<[string, string]>) {
  const cache = createTokenCache(10);
  for (const [token, subject] of entries) cache.set(token, identity(subject), 1000);
  return cache;
}

test('ok: a stored token is found, with its identity and an already resolved promise', async () => {
  const cache = createTokenCache(10);
  const token = jws('e30', 'MEUCIQDabcdefghij');
  cache.set(token, identity('alice'), 1000);
  const hit = cache.get(token);
  assert.equal(hit?.identity.subject, 'alice');
  assert.equal(hit?.validUntil, 1000);
  assert.equal((await hit!.resolved).subject, 'alice');
  // An equal string that is another object (each request's header is a new string) is found too.
  assert.equal(cache.get(`${token.slice(0, 10)}${token.slice(10)}`)?.identity.subject, 'alice');
});

test('refused: a token that shares the key (same signature end) but differs anywhere else is not a hit', () => {
  const cache = createTokenCache(10);
  const stored = jws('eyJzdWIiOiJhbGljZSJ9', 'AAAAAAAAAAAAsameEnd');
  const forged = jws('eyJzdWIiOiJjYXJvbCJ9', 'AAAAAAAAAAAAsameEnd');
  const otherSignature = jws('eyJzdWIiOiJhbGljZSJ9', 'BBBBBBBBBBBBsameEnd');
  assert.equal(tokenKey(stored), tokenKey(forged));
  assert.equal(tokenKey(stored), tokenKey(otherSignature));
  cache.set(stored, identity('alice'), 1000);
  assert.equal(cache.get(forged), undefined);
  assert.equal(cache.get(otherSignature), undefined);
  // Deleting a token that is not the stored one leaves the stored one alone.
  cache.delete(forged);
  assert.equal(cache.get(stored)?.identity.subject, 'alice');
});

test('ok: of two tokens with one key, the newer replaces the older (which is then verified again)', () => {
  const first = jws('e30', 'xxxxsameEnd');
  const second = jws('e31', 'yyyysameEnd');
  const cache = cacheWith([first, 'first'], [second, 'second']);
  assert.equal(cache.size, 1);
  assert.equal(cache.get(first), undefined);
  assert.equal(cache.get(second)?.identity.subject, 'second');
});

test('ok: the key reads the signature\'s end, skipping its last character; short strings get a key too', () => {
  assert.notEqual(tokenKey(jws('e30', 'abcdefZ')), tokenKey(jws('e30', 'abcdeYZ')));
  assert.equal(tokenKey(jws('e30', 'abcdefZ')), tokenKey(jws('e30', 'abcdefQ')));
  for (const short of ['', 'a', 'abcd']) assert.ok(Number.isSafeInteger(tokenKey(short)));
  // Always a small integer (V8 Smi), whatever the characters.
  assert.ok(tokenKey('\uffff\uffff\uffff\uffff\uffff\uffff') < 2 ** 30);
});

test('ok: full, the oldest tenth goes; a cache of 0 keeps nothing', () => {
  const cache = createTokenCache(20);
  const tokens = Array.from({ length: 21 }, (_, i) => jws('e30', `sig${String(i).padStart(4, '0')}x`));
  tokens.forEach((token, i) => cache.set(token, identity(`u${i}`), 1000));
  assert.equal(cache.size, 19);
  assert.equal(cache.get(tokens[0]!), undefined);
  assert.equal(cache.get(tokens[1]!), undefined);
  assert.equal(cache.get(tokens[2]!)?.identity.subject, 'u2');
  assert.equal(cache.get(tokens[20]!)?.identity.subject, 'u20');
  const none = createTokenCache(0);
  none.set(tokens[0]!, identity('u0'), 1000);
  assert.equal(none.size, 0);
  assert.equal(none.get(tokens[0]!), undefined);
});

test('ok: delete and clear', () => {
  const a = jws('e30', 'aaaaaaa1x');
  const b = jws('e30', 'bbbbbbb2x');
  const cache = cacheWith([a, 'a'], [b, 'b']);
  cache.delete(a);
  assert.equal(cache.get(a), undefined);
  assert.equal(cache.get(b)?.identity.subject, 'b');
  cache.clear();
  assert.equal(cache.size, 0);
});
