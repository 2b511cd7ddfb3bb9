/**
 * Who the client is, for every per-client-IP rule (refusal limiting, login throttling, route
 * `allowFrom`, rate limits, audit rows).
 *
 * `X-Forwarded-For` is the client's own words except for the entries our own proxies appended.
 * So the client is the RIGHT-most address that is not a trusted proxy, walking from the peer
 * (the socket's address) leftwards while the hop is trusted; from an untrusted peer the header is
 * ignored. A malformed entry stops the walk at the last trusted hop (fail closed: the address we
 * report is then one of our proxies' callers, never a value the client made up).
 *
 * CIDR matching uses node:net's BlockList. IPv6 clients are grouped by /64 for counters
 * (`addressBucket`): one host usually owns a whole /64, so counting single addresses would let it
 * rotate through 2^64 of them.
 */
import { BlockList, isIP } from 'node:net';

/** A compiled CIDR list: `matches('10.1.2.3')`. Built once at load; an empty list matches nothing. */
export interface CidrList {
  readonly cidrs: readonly string[];
  matches(ip: string): boolean;
}

/** `10.0.0.0/8`, `::1/128`, or a bare address (a /32 or /128). */
export const CIDR_PATTERN = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

/** Undefined when `cidr` is a valid IPv4/IPv6 address or CIDR block; otherwise what is wrong. */
export function cidrProblem(cidr: string): string | undefined {
  const [address = '', prefix, ...rest] = cidr.split('/');
  const family = isIP(address);
  if (rest.length > 0 || family === 0) return `expected an IP address or CIDR block like 10.0.0.0/8 or ::1/128, received ${JSON.stringify(cidr)}`;
  if (prefix === undefined) return undefined;
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || bits > max) return `prefix length of ${JSON.stringify(cidr)} must be 0–${max}`;
  return undefined;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, as Node reports IPv4 peers on a dual-stack socket) → IPv4. */
export function canonicalIp(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

export function compileCidrs(cidrs: readonly string[]): CidrList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const problem = cidrProblem(cidr);
    if (problem !== undefined) throw new TypeError(problem);
    const [address = '', prefix] = cidr.split('/');
    const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    const bits = prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix);
    list.addSubnet(address, bits, family);
  }
  return {
    cidrs: [...cidrs],
    matches(ip) {
      if (cidrs.length === 0) return false;
      const address = canonicalIp(ip);
      const family = isIP(address);
      if (family === 0) return false;
      return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/**
 * The client address of a request that arrived from `peer` carrying `forwardedFor` (the
 * X-Forwarded-For header values as received, possibly several headers joined by `,`).
 */
export function resolveClientAddress(peer: string, forwardedFor: string | readonly string[] | undefined, trusted: CidrList): string {
  let client = canonicalIp(peer);
  if (forwardedFor === undefined || !trusted.matches(client)) return client;
  const hops = (typeof forwardedFor === 'string' ? forwardedFor : forwardedFor.join(',')).split(',');
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = canonicalIp(stripPort(hops[i]!.trim()));
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.matches(hop)) return client;
  }
  return client;
}

/** `[2001:db8::1]:443` and `192.0.2.1:80` as some proxies write them → the bare address. */
function stripPort(entry: string): string {
  if (entry.startsWith('[')) {
    const end = entry.indexOf(']');
    return end === -1 ? entry : entry.slice(1, end);
  }
  const colon = entry.indexOf(':');
  return colon !== -1 && entry.indexOf(':', colon + 1) === -1 ? entry.slice(0, colon) : entry;
}

/**
 * The key per-IP counters use: an IPv4 address as is, an IPv6 address by its /64
 * (`2001:db8:1:2::/64`).
 */
export function addressBucket(ip: string): string {
  const address = canonicalIp(ip);
  if (isIP(address) !== 6) return address;
  const groups = expandIpv6(address);
  return `${groups.slice(0, 4).map((g) => g.replace(/^0{1,3}/, '')).join(':')}::/64`;
}

/** Eight 4-digit hex groups; an embedded IPv4 tail is converted. Assumes a valid IPv6 address. */
function expandIpv6(address: string): string[] {
  let text = address.toLowerCase().split('%')[0]!;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...fill, ...right].map((g) => g.padStart(4, '0'));
}
