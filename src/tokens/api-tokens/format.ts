/**
 * The personal API token format, made for secret scanning (like GitHub's `ghp_` tokens):
 *
 *   gth_ <30 base62 random characters> <6 base62 characters of CRC32>
 *
 * 30 base62 characters carry 178 random bits (≥ 160 required). The CRC32 of `gth_` + the random
 * part, in 6 base62 digits (62⁶ > 2³²), lets a scanner recognise a real token offline and lets us
 * refuse a mistyped or truncated one before any database lookup. The checksum is not a secret and
 * proves nothing about validity: the token is stored only as its SHA-256 digest and looked up by it.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { sha256Hex } from '../../shared/random.ts';

export const API_TOKEN_PREFIX = 'gth_';
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;
export const API_TOKEN_LENGTH = API_TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
/** Length of the public token id (what lists show and revocation names). */
const ID_LENGTH = 12;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** What a scanner can search for; also the first, cheap check of a presented token. */
export const API_TOKEN_PATTERN = /^gth_[0-9A-Za-z]{36}$/;

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes at or above it would favour the first characters.
      if (byte < 248) out += ALPHABET[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

function checksumOf(body: string): string {
  return base62(crc32(body), CHECKSUM_LENGTH);
}

/** A new token (shown to its owner once, never stored). */
export function generateApiToken(): string {
  const body = API_TOKEN_PREFIX + randomBase62(RANDOM_LENGTH);
  return body + checksumOf(body);
}

/** A new public token id: names the token in lists, the CLI and revocation events; grants nothing. */
export function generateTokenId(): string {
  return randomBase62(ID_LENGTH);
}

export type TokenShapeProblem = 'malformed' | 'checksum_mismatch';

/** Checks prefix, length, alphabet and checksum, all offline; undefined when the shape is right. */
export function tokenShapeProblem(token: string): TokenShapeProblem | undefined {
  if (!API_TOKEN_PATTERN.test(token)) return 'malformed';
  const body = token.slice(0, -CHECKSUM_LENGTH);
  return checksumOf(body) === token.slice(-CHECKSUM_LENGTH) ? undefined : 'checksum_mismatch';
}

/** What the store keeps and looks tokens up by. */
export function tokenDigest(token: string): string {
  return sha256Hex(token);
}
