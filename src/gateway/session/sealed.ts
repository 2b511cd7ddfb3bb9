/**
 * Cookie contents sealed with jose: an encrypted JWT (JWE compact, `alg: dir`, `enc: A256GCM`)
 * under one of the gateway's cookie keys. The browser can neither read nor alter it; `exp` bounds
 * its life whatever Max-Age the browser honours.
 *
 * Key rotation: the ring holds every accepted key, current first. New cookies are sealed under the
 * current key and name it by `kid` (a digest prefix, not the key); a cookie sealed under an older
 * key in the ring still opens, one under a key no longer in the ring does not.
 *
 * `typ` tells the two kinds apart, so a sign-in cookie can never pass for a session cookie.
 */
import { createHash } from 'node:crypto';
import { EncryptJWT, jwtDecrypt, type JWTPayload } from 'jose';

export const SESSION_TYP = 'gatehouse-session+jwt';
export const LOGIN_TYP = 'gatehouse-login+jwt';

const KEY_BYTES = 32;

export interface KeyRing {
  /** Seals `claims` under the current key, valid until `expiresAt` (epoch seconds). */
  seal(claims: JWTPayload, typ: string, expiresAt: number, now: number): Promise<string>;
  /** The claims of a cookie sealed under any key of the ring, of this `typ`, not expired at `now`; undefined otherwise. */
  open(value: string, typ: string, now: number): Promise<JWTPayload | undefined>;
}

function keyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 12);
}

export function createKeyRing(keys: readonly Uint8Array[]): KeyRing {
  if (keys.length === 0) throw new TypeError('the cookie key ring needs at least one key');
  for (const key of keys) {
    if (key.length !== KEY_BYTES) throw new TypeError(`a cookie key must be ${KEY_BYTES} bytes, received ${key.length}`);
  }
  const byKid = new Map(keys.map((key) => [keyId(key), key] as const));
  const current = keys[0]!;
  const currentKid = keyId(current);

  return {
    async seal(claims, typ, expiresAt, now) {
      return new EncryptJWT(claims)
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', typ, kid: currentKid })
        .setIssuedAt(now)
        .setExpirationTime(expiresAt)
        .encrypt(current);
    },

    async open(value, typ, now) {
      try {
        const { payload } = await jwtDecrypt(
          value,
          (header) => {
            const key = typeof header.kid === 'string' ? byKid.get(header.kid) : undefined;
            if (!key) throw new Error('sealed under a key not in the ring');
            return key;
          },
          { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'], typ, requiredClaims: ['exp', 'iat'], currentDate: new Date(now * 1000) },
        );
        return payload;
      } catch {
        // Tampered, truncated, expired, of the other kind or under a foreign key: all the same to the caller.
        return undefined;
      }
    },
  };
}
