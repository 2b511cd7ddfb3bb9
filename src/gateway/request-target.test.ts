/** normalizeTarget: every accepted shape, every refused shape, and one normalized form per resource. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTarget, TARGET_REASONS, type TargetCheck } from './request-target.ts';

const MAX = 8192;
type Reason = keyof typeof TARGET_REASONS;

function accepted(raw: string, max = MAX): Extract<TargetCheck, { ok: true }> {
  const result = normalizeTarget(raw, max);
  assert.ok(result.ok, `${JSON.stringify(raw)} was refused: ${result.ok ? '' : result.reason}`);
  return result;
}

const OK: Array<[name: string, raw: string, path: string, segments: string[], query?: string]> = [
  ['the root', '/', '/', []],
  ['the root with an empty query', '/?', '/', [], '?'],
  ['a plain path', '/api/books', '/api/books', ['api', 'books']],
  ['a plain path with a query, forwarded unchanged', '/api/books?page=2&q=a%20b+c', '/api/books', ['api', 'books'], '?page=2&q=a%20b+c'],
  ['one trailing slash is dropped', '/api/books/', '/api/books', ['api', 'books']],
  ['a trailing slash before the query is dropped', '/api/books/?x=1', '/api/books', ['api', 'books'], '?x=1'],
  ['unreserved escapes are decoded (RFC 3986 §6.2.2.2)', '/admin/%61pi', '/admin/api', ['admin', 'api']],
  ['escaped ~ - _ . are decoded', '/a/%7e%2D%5fx%2Ey', '/a/~-_x.y', ['a', '~-_x.y']],
  ['other escapes are kept, in upper case', '/a/%e2%82%ac', '/a/%E2%82%AC', ['a', '€']],
  ['an escaped sub-delim stays escaped, decoded in the segment', '/a/%21', '/a/%21', ['a', '!']],
  ['an escaped colon is upper-cased', '/a/%3a', '/a/%3A', ['a', ':']],
  ['sub-delims, : and @ stay as written', "/a/!$&'()*+,=:@", "/a/!$&'()*+,=:@", ['a', "!$&'()*+,=:@"]],
  ['characters outside pchar are percent-encoded', '/a/b|c^d"e{f}[g]`h<i>', '/a/b%7Cc%5Ed%22e%7Bf%7D%5Bg%5D%60h%3Ci%3E', ['a', 'b|c^d"e{f}[g]`h<i>']],
  ['an escaped % is decoded once only (double encoding stays data)', '/a/%252e%252e', '/a/%252e%252e', ['a', '%2e%2e']],
  ['a BOM is kept in the segment, not stripped', '/a/%EF%BB%BFadmin', '/a/%EF%BB%BFadmin', ['a', '\uFEFFadmin']],
  ['a four-byte UTF-8 character', '/a/%F0%9F%98%80', '/a/%F0%9F%98%80', ['a', '😀']],
  ['a segment starting with a dot is not a dot segment', '/.well-known/jwks.json', '/.well-known/jwks.json', ['.well-known', 'jwks.json']],
  ['three dots are not a dot segment', '/a/...', '/a/...', ['a', '...']],
  ['dot segments in the query are data', '/p?next=/a/../b', '/p', ['p'], '?next=/a/../b'],
  ['a ? inside the query', '/p?a=b?c', '/p', ['p'], '?a=b?c'],
  ['access_token as a value, or inside a longer name, is data', '/p?q=access_token&my_access_token=1', '/p', ['p'], '?q=access_token&my_access_token=1'],
  ['a target of exactly the maximum length', `/${'a'.repeat(255)}`, `/${'a'.repeat(255)}`, ['a'.repeat(255)]],
];

for (const [name, raw, path, segments, query = ''] of OK) {
  test(`ok: ${name}`, () => {
    const result = accepted(raw, raw.length === 256 ? 256 : MAX);
    assert.equal(result.path, path);
    assert.deepEqual(result.segments, segments);
    assert.equal(result.query, query);
  });
}

test('ok: normalizing a normalized target changes nothing', () => {
  for (const [, raw] of OK) {
    const once = accepted(raw);
    const twice = accepted(once.path + once.query);
    assert.deepEqual(twice, once, raw);
  }
});

const EQUIVALENT: string[][] = [
  ['/admin/api', '/admin/%61pi', '/admin/%61%70%69', '/%61dmin/ap%69', '/admin/api/', '/admin/%61pi/'],
  ['/a/%E2%82%AC', '/a/%e2%82%ac', '/a/%e2%82%AC', '/a/%E2%82%AC/'],
  ['/x/a|b', '/x/a%7cb', '/x/a%7Cb'],
  ['/users/~bob', '/users/%7Ebob', '/users/%7ebob'],
  ['/a/b%3Ac', '/a/b%3ac'],
];

for (const variants of EQUIVALENT) {
  test(`ok: every spelling of ${variants[0]} normalizes to one path`, () => {
    const forms = new Set(variants.map((raw) => accepted(raw).path));
    assert.equal(forms.size, 1, [...forms].join(' vs '));
  });
}

const FAIL: Array<[reason: Reason, raw: string]> = [
  ['notOriginForm', ''],
  ['notOriginForm', '*'],
  ['notOriginForm', 'http://evil.example/api'],
  ['notOriginForm', 'HTTPS://evil.example/'],
  ['notOriginForm', 'evil.example:443'],
  ['notOriginForm', 'api/books'],
  ['emptySegment', '//evil.example/api'],
  ['emptySegment', '/a//b'],
  ['emptySegment', '/a/b//'],
  ['emptySegment', '/a//'],
  ['dotSegment', '/.'],
  ['dotSegment', '/..'],
  ['dotSegment', '/a/./b'],
  ['dotSegment', '/a/../b'],
  ['dotSegment', '/a/..'],
  ['dotSegment', '/a/%2e/b'],
  ['dotSegment', '/a/%2e%2e/b'],
  ['dotSegment', '/a/%2E%2E'],
  ['dotSegment', '/a/.%2e/b'],
  ['dotSegment', '/a/%2e./b'],
  ['dotSegment', '/a/../?x=1'],
  ['encodedSeparator', '/a%2fb'],
  ['encodedSeparator', '/a%2Fb'],
  ['encodedSeparator', '/a/..%2f..%2fetc'],
  ['encodedSeparator', '/a%5cb'],
  ['encodedSeparator', '/a%5Cb'],
  ['backslash', '/a\\b'],
  ['backslash', '/a\\..\\b'],
  ['semicolon', '/a;b'],
  ['semicolon', '/a;jsessionid=1/b'],
  ['semicolon', '/admin;/api'],
  ['semicolon', '/a/%3bb'],
  ['semicolon', '/a/%3B'],
  ['fragment', '/a#b'],
  ['fragment', '/a?x=1#y'],
  ['badByte', '/a\x00b'],
  ['badByte', '/a\x01'],
  ['badByte', '/a\x1f'],
  ['badByte', '/a\x7f'],
  ['badByte', '/a b'],
  ['badByte', '/a\tb'],
  ['badByte', '/a\rb'],
  ['badByte', '/a\nb'],
  ['badByte', '/é'],
  ['badByte', '/a\u2028'],
  ['badByte', '/a\uff0fb'],
  ['badByte', '/a?x=1 2'],
  ['badByte', '/a?x=\x00'],
  ['badByte', '/a?x=é'],
  ['badByte', '/a?x=\x7f'],
  ['encodedControl', '/a%00'],
  ['encodedControl', '/a%00.json'],
  ['encodedControl', '/a%0a'],
  ['encodedControl', '/a%0D%0AX-Injected:%201'],
  ['encodedControl', '/a%1f'],
  ['encodedControl', '/a%7f'],
  ['encodedControl', '/a%09'],
  ['badEscape', '/a%'],
  ['badEscape', '/a%2'],
  ['badEscape', '/a%2/b'],
  ['badEscape', '/a%G1'],
  ['badEscape', '/a%zz'],
  ['badEscape', '/a%%41'],
  ['badEscape', '/a%u002e'],
  ['badEscape', '/a?x=%'],
  ['badEscape', '/a?x=%4'],
  ['badEscape', '/a?x=%g0'],
  ['badUtf8', '/a/%C0%AF'],
  ['badUtf8', '/a/%C0%AE%C0%AE'],
  ['badUtf8', '/a/%E0%80%AE'],
  ['badUtf8', '/a/%F0%80%80%AF'],
  ['badUtf8', '/a/%ED%A0%80'],
  ['badUtf8', '/a/%FF'],
  ['badUtf8', '/a/%80'],
  ['badUtf8', '/a/%E2%82'],
  ['badUtf8', '/a/%F4%90%80%80'],
  ['tokenInQuery', '/a?access_token=eyJ'],
  ['tokenInQuery', '/a?b=1&access_token=eyJ'],
  ['tokenInQuery', '/a?b=1;access_token=eyJ'],
  ['tokenInQuery', '/a?ACCESS_TOKEN=eyJ'],
  ['tokenInQuery', '/a?access%5Ftoken=eyJ'],
  ['tokenInQuery', '/a?access%5ftoken=eyJ'],
  ['tokenInQuery', '/a?access_token'],
  ['methodInQuery', '/a?_method=DELETE'],
  ['methodInQuery', '/a?x=1&%5Fmethod=PUT'],
];

for (const [reason, raw] of FAIL) {
  test(`fail-${reason}: ${JSON.stringify(raw)} → 400`, () => {
    const result = normalizeTarget(raw, MAX);
    assert.deepEqual(result, { ok: false, status: 400, reason: TARGET_REASONS[reason] });
  });
}

test('fail-too-long: a target one byte over the maximum → 414', () => {
  assert.deepEqual(normalizeTarget(`/${'a'.repeat(256)}`, 256), { ok: false, status: 414, reason: TARGET_REASONS.tooLong });
});

test('fail-too-long: the query counts towards the maximum', () => {
  const result = normalizeTarget(`/a?q=${'x'.repeat(300)}`, 256);
  assert.equal(result.ok ? 200 : result.status, 414);
});

test('fail-too-long: the length is checked before anything else', () => {
  const result = normalizeTarget(`http://evil/${'a'.repeat(300)}`, 256);
  assert.equal(result.ok ? 200 : result.status, 414);
});

test('ok: reasons never echo the input', () => {
  for (const [, raw] of FAIL) {
    const result = normalizeTarget(raw, MAX);
    assert.ok(!result.ok && Object.values(TARGET_REASONS).includes(result.reason as never));
  }
});
