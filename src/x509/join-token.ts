/**
 * The join token format, parsed in one place: `ghjt.<id>.<secret>.<root-sha256-hex>`. Pure, so
 * both the CA (src/pki/provisioners/join-token.ts, which mints and redeems tokens) and the SDK
 * (which reads the root fingerprint to pin) use it without the SDK importing server code.
 */
const JOIN_TOKEN = /^ghjt\.([a-f0-9]{16})\.([A-Za-z0-9_-]{43})\.([a-f0-9]{64})$/;

export interface ParsedJoinToken {
  /** Finds the row. */
  id: string;
  /** 256 random bits, base64url; the CA stores only its SHA-256. */
  secret: string;
  /** SHA-256 of the root CA certificate (lower-case hex) the workload pins. */
  rootFingerprint: string;
}

export function formatJoinToken(id: string, secret: string, rootFingerprint: string): string {
  return `ghjt.${id}.${secret}.${rootFingerprint}`;
}

/** Undefined when `token` is not a well-formed join token. */
export function parseJoinToken(token: string): ParsedJoinToken | undefined {
  const match = JOIN_TOKEN.exec(token);
  return match ? { id: match[1]!, secret: match[2]!, rootFingerprint: match[3]! } : undefined;
}
