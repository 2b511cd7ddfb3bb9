/**
 * The personal API token format, made for secret scanning (like GitHub's `ghp_` tokens):
 *
 *   gth_ <30 base62 random characters> <6 base62 characters of CRC32>
 *
 * 30 base62 characters carry 178 random bits (≥ 160 required). The CRC32 (zlib's, IEEE) of
 * `gth_` + the random part, written as 6 base62 digits, most significant first, zero-padded
 * (62⁶ > 2³²), lets a scanner recognise a real token offline and lets the Security Service and the
 * gateway refuse a mistyped or truncated one before any lookup or network call. The checksum is
 * not a secret and proves nothing about validity. Alphabet: 0-9 A-Z a-z.
 *
 * Pure and shared: the Security Service generates and checks tokens with it, the gateway checks
 * them before it asks the Security Service to exchange one.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

export const API_TOKEN_PREFIX = 'gth_';
export const RANDOM_LENGTH = 30;
export const CHECKSUM_LENGTH = 6;
export const API_TOKEN_LENGTH = API_TOKEN_PREFIX.length + RANDOM_LENGTH + CHECKSUM_LENGTH;
/** What a scanner searches for; also the first, cheap check of a presented token. */
export const API_TOKEN_PATTERN = /^gth_[0-9A-Za-z]{36}$/;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(length: number): string {
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

/** The 6-character checksum of `gth_<random>`. */
export function apiTokenChecksum(prefixAndBody: string): string {
  return base62(crc32(prefixAndBody), CHECKSUM_LENGTH);
}

/** A new token (shown to its owner once, never stored). */
export function generateApiToken(): string {
  const body = API_TOKEN_PREFIX + randomBase62(RANDOM_LENGTH);
  return body + apiTokenChecksum(body);
}

export type TokenShapeProblem = 'malformed' | 'checksum_mismatch';

/** Checks prefix, length, alphabet and checksum, all offline; undefined when the shape is right. */
export function tokenShapeProblem(token: string): TokenShapeProblem | undefined {
  if (!API_TOKEN_PATTERN.test(token)) return 'malformed';
  const body = token.slice(0, -CHECKSUM_LENGTH);
  return apiTokenChecksum(body) === token.slice(-CHECKSUM_LENGTH) ? undefined : 'checksum_mismatch';
}

/** `gth_` at the start: the caller meant a personal API token (well-formed or not). */
export function looksLikeApiToken(value: string): boolean {
  return value.startsWith(API_TOKEN_PREFIX);
}
