/**
 * Signs and checks oidc-provider's signed cookies (its `cookies.keys` takes "your own KeyGrip
 * instance"): the same signatures keygrip makes — HMAC-SHA1 under each cookie key, base64url —
 * so cookies signed before keep verifying, and the newest key (first) signs.
 *
 * Why not keygrip itself: it compares through tsscmp, which HMACs both sides again under a fresh
 * random Buffer key, and on Node 24 an HMAC keyed by a Buffer costs ≈ 35 µs (by a string ≈ 4 µs):
 * ≈ 80 µs for every signed cookie read, the largest single cost of a refused sign-in post during a
 * login flood. The signatures are public values of fixed length; node:crypto's timingSafeEqual
 * compares them in constant time.
 */
import { createHmac } from 'node:crypto';
import { constantTimeEqual } from '../shared/random.ts';

/** The keygrip interface Koa's cookies use: `index` says which key signed (> 0: re-sign with the first). */
export interface CookieSigner {
  sign(data: string): string;
  verify(data: string, digest: string): boolean;
  index(data: string, digest: string): number;
}

export function createCookieSigner(keys: readonly string[]): CookieSigner {
  if (keys.length === 0) throw new TypeError('createCookieSigner: expected at least one cookie key, received none');
  const sign = (data: string, key: string) => createHmac('sha1', key).update(data).digest('base64url');
  const index = (data: string, digest: string) => {
    for (let i = 0; i < keys.length; i++) if (constantTimeEqual(sign(data, keys[i]!), String(digest))) return i;
    return -1;
  };
  return {
    sign: (data) => sign(data, keys[0]!),
    verify: (data, digest) => index(data, digest) > -1,
    index,
  };
}
