import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chunkedCookieLines, clearChunkedLines, readChunked, readCookie, withoutCookies, MAX_COOKIE_BYTES } from './cookies.ts';

const attrs = { path: '/', maxAge: 3600, secure: true };
/** What a browser sends back after these Set-Cookie lines (name=value of the ones not cleared). */
const sent = (lines: string[]) => lines.filter((l) => !/Max-Age=0/.test(l)).map((l) => l.split(';')[0]).join('; ');

describe('session cookie on the wire', () => {
  test('ok: a small value is one cookie with the session attributes', () => {
    const lines = chunkedCookieLines('__Host-s', 'abc', attrs, undefined)!;
    assert.deepEqual(lines, ['__Host-s=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure']);
  });

  test('ok: a large value is split into chunks that read back whole', () => {
    const value = 'x'.repeat(MAX_COOKIE_BYTES * 2);
    const lines = chunkedCookieLines('s', value, attrs, undefined)!;
    assert.equal(lines.length, 3);
    for (const line of lines) assert.ok(line.split(';')[0]!.length <= MAX_COOKIE_BYTES);
    assert.deepEqual(readChunked(sent(lines), 's'), { value, chunks: 3 });
  });

  test('fail-too-large: more than the allowed chunks is refused', () => {
    assert.equal(chunkedCookieLines('s', 'x'.repeat(MAX_COOKIE_BYTES * 4), attrs, undefined), undefined);
  });

  test('ok: chunks the request carried but the new value does not need are cleared', () => {
    const lines = chunkedCookieLines('s', 'small', attrs, 's.0=a; s.1=b; s.2=c; other=1')!;
    assert.equal(lines[0], 's=small; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax; Secure');
    assert.deepEqual(lines.slice(1).map((l) => l.split(';')[0]), ['s.0=', 's.1=', 's.2=']);
    assert.ok(lines.slice(1).every((l) => /Max-Age=0/.test(l)));
  });

  test('ok: clearing clears every part present, or the cookie itself', () => {
    assert.deepEqual(clearChunkedLines('s', false, 's.0=a; s.1=b').map((l) => l.split(';')[0]), ['s.0=', 's.1=']);
    assert.deepEqual(clearChunkedLines('s', false, undefined).map((l) => l.split(';')[0]), ['s=']);
  });

  test('ok: the first of duplicate cookies is read', () => {
    assert.equal(readCookie('a=1; s=first; s=second', 's'), 'first');
  });

  test('ok: stripping removes exactly the session cookie, its chunks and the sign-in cookie', () => {
    const header = 'theme=dark; s=v; s.0=a; s.1=b; s.login=x; s.x=keep; ss=keep; id=s=1';
    assert.equal(withoutCookies(header, 's', ['s.login']), 'theme=dark; s.x=keep; ss=keep; id=s=1');
  });

  test('ok: nothing left → undefined', () => {
    assert.equal(withoutCookies('s=v; s.login=x', 's', ['s.login']), undefined);
    assert.equal(withoutCookies(undefined, 's', []), undefined);
  });
});
