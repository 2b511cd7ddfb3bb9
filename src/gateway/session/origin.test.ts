import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { crossOriginReason, safeReturnTo } from './origin.ts';

const PUBLIC = 'https://shop.example';

describe('safe return paths', () => {
  for (const [value, expected] of [
    ['/api/books', '/api/books'],
    ['/api/books?page=2&q=a%20b', '/api/books?page=2&q=a%20b'],
    ['/a/./b/../c', '/a/c'],
    ['/', '/'],
  ] as const) {
    test(`ok: ${value} is kept`, () => assert.equal(safeReturnTo(value, PUBLIC), expected));
  }
  for (const value of [
    '//evil.example', '/\\evil.example', '\\/evil.example', 'https://evil.example', 'http://shop.example/x', 'https://shop.example/x',
    'javascript:alert(1)', 'evil', '/\t/evil.example', '/\n/evil.example', ' /x', '/..//evil.example', '/.//evil.example', '/%2F/x/../..//evil.example',
    '/login', '/login/callback?code=x', '/logout', '', undefined, null, `/${'a'.repeat(3000)}`,
  ]) {
    test(`fail-open-redirect: ${JSON.stringify(value)?.slice(0, 40)} falls back to /`, () => assert.equal(safeReturnTo(value, PUBLIC), '/'));
  }
  test('ok: /loginx is an ordinary path', () => assert.equal(safeReturnTo('/loginx', PUBLIC), '/loginx'));
});

const request = (method: string, headers: Record<string, string>) => ({ method, headers }) as unknown as IncomingMessage;

describe('same-origin check', () => {
  for (const method of ['GET', 'HEAD', 'OPTIONS']) {
    test(`ok: ${method} is never refused`, () => assert.equal(crossOriginReason(request(method, { 'sec-fetch-site': 'cross-site' }), PUBLIC), undefined));
  }
  test('ok: Sec-Fetch-Site same-origin', () => assert.equal(crossOriginReason(request('POST', { 'sec-fetch-site': 'same-origin' }), PUBLIC), undefined));
  test('ok: Origin equal to the public origin (no Sec-Fetch-Site)', () => assert.equal(crossOriginReason(request('DELETE', { origin: PUBLIC }), PUBLIC), undefined));
  for (const site of ['cross-site', 'same-site', 'none', 'same-origin, cross-site']) {
    test(`fail-cross-origin: Sec-Fetch-Site ${site}`, () => assert.ok(crossOriginReason(request('POST', { 'sec-fetch-site': site, origin: PUBLIC }), PUBLIC)));
  }
  for (const origin of ['https://evil.example', 'http://shop.example', 'https://shop.example:8443', 'null', 'https://api.shop.example']) {
    test(`fail-cross-origin: Origin ${origin}`, () => assert.ok(crossOriginReason(request('PUT', { origin }), PUBLIC)));
  }
  test('fail-no-origin: neither header is refused', () => assert.ok(crossOriginReason(request('PATCH', {}), PUBLIC)));
});
