/**
 * The framework-free core of the SDK's middleware: exactly one `Authorization: Bearer <token>`
 * (RFC 6750 §2.1) → `verifier.verify` → an Identity, or the answer to send. Answers are RFC 9457
 * problem details with the RFC 6750 §3 challenge; they never contain the token or why it was
 * refused (that goes to `onRefused`, for the log).
 *
 *   no Authorization header                        → 401, WWW-Authenticate: Bearer realm="…"
 *   two Authorization headers, another scheme,
 *   or a malformed token                           → 400, error="invalid_request"
 *   a token the verifier refuses                   → 401, error="invalid_token"
 *   the issuer's keys never loaded                 → 503, Retry-After: 5
 */
import { errorCatalogue, type ErrorCode } from '../../shared/errors.ts';
import { problemType, PROBLEM_CONTENT_TYPE } from '../../shared/problem.ts';
import { VerificationError, VerifierUnavailableError, type Identity, type Verifier } from '../verify/types.ts';

export interface BearerOptions {
  /** `realm` of the challenge. Default `gatehouse`. */
  realm?: string;
  /** Told why a request was refused (for logs; never send it to the client). */
  onRefused?: (refusal: { code: ErrorCode; reason: string }) => void;
}

/** What an adapter needs of a request: Node's raw header list, which keeps duplicates. */
export interface BearerRequest {
  rawHeaders: readonly string[];
}

export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type BearerOutcome = { identity: Identity; refusal?: undefined } | { identity?: undefined; refusal: Refusal };

/** b64token of RFC 6750 §2.1. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^Bearer +(\S+)$/i;

function refusal(code: ErrorCode, realm: string, challenge: string | undefined): Refusal {
  const { status, title } = errorCatalogue[code];
  const headers: Record<string, string> = { 'content-type': PROBLEM_CONTENT_TYPE, 'cache-control': 'no-store' };
  if (challenge !== undefined) headers['www-authenticate'] = `Bearer realm="${realm}"${challenge === '' ? '' : `, error="${challenge}"`}`;
  if (status === 503) headers['retry-after'] = '5';
  return { status, headers, body: JSON.stringify({ type: problemType(code), title, status, code }) };
}

/** The single bearer token of the request, or the refusal to send (`unauthorized` when there is none). */
export function bearerTokenOf(request: BearerRequest, realm = 'gatehouse'): { token: string; refusal?: undefined } | { token?: undefined; refusal: Refusal; reason: string } {
  const raw = request.rawHeaders;
  let header: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 13 || raw[i]!.toLowerCase() !== 'authorization') continue;
    // Node keeps only the first of duplicate Authorization headers: refuse the ambiguity.
    if (header !== undefined) return { refusal: refusal('invalid_request', realm, 'invalid_request'), reason: 'two Authorization headers' };
    header = raw[i + 1]!;
  }
  if (header === undefined || header === '') return { refusal: refusal('unauthorized', realm, ''), reason: 'no Authorization header' };
  const match = BEARER.exec(header);
  if (match === null || !B64TOKEN.test(match[1]!)) return { refusal: refusal('invalid_request', realm, 'invalid_request'), reason: 'not Authorization: Bearer <token>' };
  return { token: match[1]! };
}

/** Returns a function that authenticates one request. */
export function bearerAuthenticator(verifier: Verifier, options: BearerOptions = {}): (request: BearerRequest) => Promise<BearerOutcome> {
  const realm = options.realm ?? 'gatehouse';
  if (!/^[\x20\x21\x23-\x5B\x5D-\x7E]*$/.test(realm)) throw new TypeError(`bearer middleware: realm must be printable ASCII without " or \\, received ${JSON.stringify(realm)}`);
  const refuse = (code: ErrorCode, reason: string, challenge: string | undefined): BearerOutcome => {
    options.onRefused?.({ code, reason });
    return { refusal: refusal(code, realm, challenge) };
  };
  return async (request) => {
    const extracted = bearerTokenOf(request, realm);
    if (extracted.refusal) {
      options.onRefused?.({ code: extracted.refusal.status === 401 ? 'unauthorized' : 'invalid_request', reason: extracted.reason });
      return { refusal: extracted.refusal };
    }
    try {
      return { identity: await verifier.verify(extracted.token) };
    } catch (error) {
      if (error instanceof VerificationError) return refuse('invalid_token', error.reason, 'invalid_token');
      if (error instanceof VerifierUnavailableError) return refuse('temporarily_unavailable', error.reason, undefined);
      throw error;
    }
  };
}
