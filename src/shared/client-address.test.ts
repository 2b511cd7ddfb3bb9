import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { compileCidrs, resolveClientAddress, addressBucket, cidrProblem } from './client-address.ts';

describe('client address', () => {
  const proxies = compileCidrs(['10.0.0.0/8', '::1/128']);

  test('ok: from an untrusted peer X-Forwarded-For is ignored', () => {
    assert.equal(resolveClientAddress('203.0.113.9', '1.2.3.4', proxies), '203.0.113.9');
  });
  test('ok: behind a trusted proxy the client is the right-most untrusted hop', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '6.6.6.6, 198.51.100.7', proxies), '198.51.100.7');
  });
  test('ok: a chain of trusted proxies is walked', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '198.51.100.7, 10.0.0.5', proxies), '198.51.100.7');
  });
  test('ok: several X-Forwarded-For headers read as one list', () => {
    assert.equal(resolveClientAddress('10.0.0.2', ['6.6.6.6', '198.51.100.7'], proxies), '198.51.100.7');
  });
  test('ok: IPv4-mapped peers are IPv4', () => {
    assert.equal(resolveClientAddress('::ffff:10.0.0.2', '198.51.100.7', proxies), '198.51.100.7');
  });
  test('fail-garbage: a malformed hop stops the walk at the last trusted hop', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '1.1.1.1, not-an-ip', proxies), '10.0.0.2');
  });
  test('ok: everything trusted → the left-most entry', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '10.9.9.9', proxies), '10.9.9.9');
  });
  test('ok: no trusted proxies configured → always the peer', () => {
    assert.equal(resolveClientAddress('10.0.0.2', '1.1.1.1', compileCidrs([])), '10.0.0.2');
  });
  test('ok: IPv6 addresses are grouped by /64, IPv4 kept whole', () => {
    assert.equal(addressBucket('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(addressBucket('2001:db8:1:2:bbbb::9'), '2001:db8:1:2::/64');
    assert.notEqual(addressBucket('2001:db8:1:3::1'), addressBucket('2001:db8:1:2::1'));
    assert.equal(addressBucket('192.0.2.1'), '192.0.2.1');
    assert.equal(addressBucket('::ffff:192.0.2.1'), '192.0.2.1');
  });
  test('fail-cidr: bad CIDR blocks are named', () => {
    assert.match(cidrProblem('10.0.0.0/33') ?? '', /0–32/);
    assert.match(cidrProblem('example.com') ?? '', /expected an IP/);
    assert.equal(cidrProblem('2001:db8::/32'), undefined);
    assert.throws(() => compileCidrs(['nope']), TypeError);
  });
});
