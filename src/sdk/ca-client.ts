/**
 * The SDK's HTTP client for the Gatehouse CA's TLS listener. Every call verifies the CA's
 * certificate against the roots we trust (first the root pinned by the join token, later the
 * bundle) AND its SPIFFE ID `spiffe://<td>/svc/gatehouse` — a workload certificate from the same
 * CA must not be able to pose as the CA and collect join tokens.
 */
import type { PeerCertificate } from 'node:tls';
import { Agent, request } from 'undici';
import { parseCertificates, fingerprintSha256, checkLeaf, RESERVED_SERVICE as CA_SERVICE } from '../x509/index.ts';

// The CA's service name is reserved in one place (never granted to a workload).
export { RESERVED_SERVICE as CA_SERVICE } from '../x509/index.ts';

export interface CaTls {
  /** PEM roots to trust. */
  ca: string;
  /** Known after enrollment; before it, any trust domain (the pinned root is the anchor). */
  trustDomain?: string | undefined;
  /** Client credentials for /pki/renew. */
  key?: string;
  cert?: string;
}

export class CaRequestError extends Error {
  /** HTTP status of the CA's refusal; undefined when the CA was not reached. */
  readonly status: number | undefined;
  /** Problem code, e.g. `certificate_rejected`. */
  readonly code: string | undefined;
  /** The problem's `reason` member, e.g. `expired` or `unknown_certificate` for a refused renewal. */
  readonly reason: string | undefined;
  constructor(message: string, status?: number, code?: string, options?: ErrorOptions & { reason?: string | undefined }) {
    super(message, options);
    this.name = 'CaRequestError';
    this.status = status;
    this.code = code;
    this.reason = options?.reason;
  }
}

/**
 * The CA's TLS certificate must pass the full leaf check for a server (serverAuth EKU, not a CA,
 * keyUsage digitalSignature only, exactly one SPIFFE URI SAN, in our trust domain once known)
 * and be the CA's own SPIFFE ID — the chain alone only proves it comes from our CA.
 */
export function caServerIdentityCheck(trustDomain: string | undefined) {
  return (_host: string, cert: PeerCertificate): Error | undefined => {
    if (!cert?.raw) return new Error('the CA presented no certificate');
    try {
      const leaf = checkLeaf(new Uint8Array(cert.raw), { trustDomain, usage: 'serverAuth' });
      if (!leaf.ok) return new Error(`the CA's certificate is refused (${leaf.reason}): ${leaf.detail}`);
      if (leaf.service !== CA_SERVICE) return new Error(`the CA's certificate is ${leaf.spiffeId}, expected spiffe://${trustDomain ?? '<trust-domain>'}/svc/${CA_SERVICE}`);
      return undefined;
    } catch (error) {
      return new Error(`the CA's certificate cannot be parsed: ${(error as Error).message}`);
    }
  };
}

export function caAgent(tls: CaTls): Agent {
  return new Agent({
    connect: {
      ca: tls.ca,
      ...(tls.key && tls.cert ? { key: tls.key, cert: tls.cert } : {}),
      rejectUnauthorized: true,
      checkServerIdentity: caServerIdentityCheck(tls.trustDomain),
      minVersion: 'TLSv1.3',
      timeout: 5000,
    },
    keepAliveTimeout: 10_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
}

export interface CaResponse {
  status: number;
  etag: string | undefined;
  body: string;
}

export async function caCall(agent: Agent, url: string, init: { method?: 'GET' | 'POST'; json?: unknown; etag?: string | undefined } = {}): Promise<CaResponse> {
  const headers: Record<string, string> = {};
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  if (init.etag) headers['if-none-match'] = init.etag;
  let response;
  try {
    response = await request(url, { method: init.method ?? 'GET', dispatcher: agent, headers, body: init.json === undefined ? null : JSON.stringify(init.json) });
  } catch (error) {
    throw new CaRequestError(`the CA at ${new URL(url).origin} is unreachable: ${(error as Error).message}`, undefined, undefined, { cause: error });
  }
  const body = await response.body.text();
  const etag = response.headers.etag;
  return { status: response.statusCode, etag: typeof etag === 'string' ? etag : undefined, body };
}

/** Throws a CaRequestError carrying the problem `code` unless the status is 2xx. */
export function expectOk(response: CaResponse, what: string): CaResponse {
  if (response.status >= 200 && response.status < 300) return response;
  let code: string | undefined;
  let reason: string | undefined;
  let detail = response.body.slice(0, 200);
  try {
    const problem = JSON.parse(response.body) as { code?: string; reason?: unknown; detail?: string; title?: string };
    code = problem.code;
    reason = typeof problem.reason === 'string' ? problem.reason : undefined;
    detail = problem.detail ?? problem.title ?? detail;
  } catch { /* not JSON */ }
  throw new CaRequestError(`${what} refused by the CA (${response.status}${code ? ` ${code}` : ''}${reason ? `: ${reason}` : ''}): ${detail}`, response.status, code, { reason });
}

/**
 * Trust on first use, pinned: fetch the bundle without verification, keep only the root whose
 * SHA-256 fingerprint is the pinned one. Everything after that is verified against it.
 */
export async function bootstrapRoot(caUrl: string, fingerprint: string): Promise<string> {
  const insecure = new Agent({ connect: { rejectUnauthorized: false, minVersion: 'TLSv1.3', timeout: 5000 } });
  try {
    const response = await caCall(insecure, `${caUrl}/pki/bundle.pem`);
    if (response.status !== 200) throw new CaRequestError(`the CA did not serve its trust bundle (${response.status})`, response.status);
    const wanted = fingerprint.replace(/:/g, '').toLowerCase();
    const root = parseCertificates(response.body).find((c) => fingerprintSha256(c) === wanted);
    if (!root) throw new CaRequestError(`no root in the CA's bundle has the pinned fingerprint ${wanted}: refusing to trust it`);
    return root.toString('pem') + '\n';
  } finally {
    await insecure.close();
  }
}
