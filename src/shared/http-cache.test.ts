import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { contentEtag, etagMatches } from './http-cache.ts';

describe('etagMatches', () => {
  const cases: Array<[string, string | undefined, boolean]> = [
    ['ok: exact', '"abc"', true],
    ['ok: weak form matches for If-None-Match', 'W/"abc"', true],
    ['ok: list', '"x", "abc"', true],
    ['ok: star', '*', true],
    ['fail-mismatch: other tag', '"abd"', false],
    ['fail-mismatch: absent', undefined, false],
  ];
  for (const [name, header, expected] of cases) test(name, () => assert.equal(etagMatches(header, '"abc"'), expected));
});

test('ok: contentEtag is a quoted strong tag that changes with the content', () => {
  assert.match(contentEtag('a'), /^"[A-Za-z0-9_-]{27}"$/);
  assert.equal(contentEtag('a'), contentEtag(Buffer.from('a')));
  assert.notEqual(contentEtag('a'), contentEtag('b'));
});
