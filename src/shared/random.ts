import { randomBytes, randomFillSync, createHash, timingSafeEqual } from 'node:crypto';

/** A random, URL-safe identifier or secret with `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function sha256Hex(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Constant-time comparison of two strings (lengths may differ: that alone leaks nothing useful). */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  if (left.length !== right.length) {
    // Compare anyway so the time does not depend on where the strings differ.
    timingSafeEqual(left, left);
    return false;
  }
  return timingSafeEqual(left, right);
}

/**
 * Random bytes for a per-request or per-certificate path, drawn from the CSPRNG `poolBytes` at a
 * time: one call per pool instead of one per use (a syscall each). Every byte is handed out once.
 * The bytes returned are a view of the pool: use them before the next call.
 */
export function randomBytesPool(poolBytes: number): (bytes: number) => Buffer {
  const pool = Buffer.alloc(poolBytes);
  let offset = pool.length;
  return (bytes) => {
    if (offset + bytes > pool.length) {
      randomFillSync(pool);
      offset = 0;
    }
    offset += bytes;
    return pool.subarray(offset - bytes, offset);
  };
}

/**
 * Random lower-case hex text for per-request ids, drawn from the CSPRNG `poolBytes` at a time:
 * one call and one hex conversion per pool, and each id is a slice of that text (V8 shares it, no
 * copy), where a Buffer per id and a conversion each cost more than the rest of the id. Every
 * character is handed out once.
 */
export function randomHexPool(poolBytes: number): (chars: number) => string {
  const pool = Buffer.alloc(poolBytes);
  let text = '';
  let offset = 0;
  return (chars) => {
    if (offset + chars > text.length) {
      randomFillSync(pool);
      text = pool.toString('hex');
      offset = 0;
    }
    offset += chars;
    return text.slice(offset - chars, offset);
  };
}
