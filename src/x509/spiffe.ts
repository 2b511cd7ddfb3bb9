/**
 * SPIFFE IDs of Gatehouse workloads: `spiffe://<trust-domain>/svc/<service>`. Pure functions,
 * shared by the CA and the SDK.
 */

/** A service name: DNS-label-like, so `<service>` and `<service>.<…>` work as DNS SANs. */
export const SERVICE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TRUST_DOMAIN = /^[a-z0-9.-]+$/;

/**
 * The CA's own service name: its TLS listener is spiffe://<td>/svc/gatehouse, and the SDK trusts
 * exactly that identity as the CA. No join token, direct issue or CSR may ever grant it.
 */
export const RESERVED_SERVICE = 'gatehouse';

export function isReservedService(service: string): boolean {
  return service === RESERVED_SERVICE;
}

export interface SpiffeId {
  trustDomain: string;
  /** Path without the leading slash, e.g. `svc/orders`. */
  path: string;
  /** Set when the path is `svc/<service>`. */
  service: string | undefined;
}

export function spiffeIdFor(trustDomain: string, service: string): string {
  if (!TRUST_DOMAIN.test(trustDomain)) throw new TypeError(`expected a trust domain like example.org, received ${JSON.stringify(trustDomain)}`);
  if (!SERVICE_NAME.test(service)) throw new TypeError(`expected a service name like orders, received ${JSON.stringify(service)}`);
  return `spiffe://${trustDomain}/svc/${service}`;
}

/** Parses a SPIFFE ID strictly (no query, fragment, port, user info, dot segments); undefined if malformed. */
export function parseSpiffeId(uri: string): SpiffeId | undefined {
  const match = /^spiffe:\/\/([a-z0-9.-]+)\/([A-Za-z0-9._~!$&'()*+,;=:@%/-]+)$/.exec(uri);
  if (!match) return undefined;
  const trustDomain = match[1]!;
  const path = match[2]!;
  const segments = path.split('/');
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined;
  const service = segments.length === 2 && segments[0] === 'svc' && SERVICE_NAME.test(segments[1]!) ? segments[1] : undefined;
  return { trustDomain, path, service };
}
