/**
 * An undici dispatcher for outgoing mTLS calls: presents the workload's current certificate,
 * verifies the server's chain against the trust bundle AND its SPIFFE ID (Node's default
 * hostname check never matches URI SANs), and refuses a revoked server certificate. When the
 * identity changes (renewal, new CRL, new bundle) it moves to a fresh connection pool and lets
 * the old one finish what is in flight, so kept-alive connections never outlive a revocation
 * or the certificate they were opened with.
 */
import type { PeerCertificate } from 'node:tls';
import { Agent, Dispatcher } from 'undici';
import { checkLeaf } from '../x509/index.ts';
import type { WorkloadIdentity } from './workload-identity.ts';

export interface MtlsAgentOptions {
  /** The SPIFFE ID(s) the server must present, e.g. spiffe://gatehouse.local/svc/catalog. */
  expect: string | string[];
  connections?: number;
}

export function serverIdentityCheck(identity: WorkloadIdentity, expected: ReadonlySet<string>) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (!cert?.raw) return new Error('the server presented no certificate');
    const leaf = checkLeaf(new Uint8Array(cert.raw), { trustDomain: identity.trustDomain, usage: 'serverAuth' });
    if (!leaf.ok) return new Error(`server certificate refused (${leaf.reason}): ${leaf.detail}`);
    if (!expected.has(leaf.spiffeId)) return new Error(`server identity mismatch: expected ${[...expected].join(' or ')}, received ${leaf.spiffeId}`);
    const stale = identity.crlStale();
    if (stale !== undefined) return new Error(`server certificate ${leaf.serial} (${leaf.spiffeId}) refused: ${stale}`);
    if (identity.isRevoked(leaf.serial)) return new Error(`server certificate ${leaf.serial} (${leaf.spiffeId}) is revoked`);
    return undefined;
  };
}

class MtlsDispatcher extends Dispatcher {
  #identity: WorkloadIdentity;
  #build: () => Agent;
  #current: Agent;
  #onChanged: () => void;

  constructor(identity: WorkloadIdentity, build: () => Agent) {
    super();
    this.#identity = identity;
    this.#build = build;
    this.#current = build();
    this.#onChanged = () => {
      const old = this.#current;
      this.#current = this.#build();
      void old.close().catch(() => {});
    };
    identity.on('changed', this.#onChanged);
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.#current.dispatch(options, handler);
  }

  override async close(): Promise<void> {
    this.#identity.off('changed', this.#onChanged);
    await this.#current.close();
  }

  override async destroy(): Promise<void> {
    this.#identity.off('changed', this.#onChanged);
    await this.#current.destroy();
  }
}

export function mtlsAgent(identity: WorkloadIdentity, options: MtlsAgentOptions): Dispatcher {
  const expected = new Set(Array.isArray(options.expect) ? options.expect : [options.expect]);
  const build = () => {
    const c = identity.credentials();
    return new Agent({
      connections: options.connections ?? null,
      // Every peer is a Gatehouse SDK server: TLS 1.3 only (no CBC/SHA-1 suites of TLS 1.2).
      connect: { key: c.key, cert: c.cert, ca: c.ca, rejectUnauthorized: true, minVersion: 'TLSv1.3', checkServerIdentity: serverIdentityCheck(identity, expected) },
    });
  };
  return new MtlsDispatcher(identity, build);
}
