/**
 * The cookie key signs oidc-provider's session and interaction cookies: a short one can be
 * guessed offline from one signed cookie, and with it any session forged. So a key shorter than
 * 32 bytes (after base64/base64url decoding; 32 characters when it is not base64) is refused at
 * start. The generated `cookie.key` always has 32 random bytes.
 */

export const MIN_COOKIE_KEY_BYTES = 32;

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** How many bytes of key material `key` holds. */
export function cookieKeyBytes(key: string): number {
  const text = key.trim();
  if (BASE64.test(text)) return Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url').length;
  return [...text].length;
}

/** Returns `key`, or throws a message that says what is expected (never the key itself). */
export function validateCookieKey(key: string): string {
  const bytes = cookieKeyBytes(key);
  if (bytes < MIN_COOKIE_KEY_BYTES) {
    throw new Error(
      `GATEHOUSE_COOKIE_KEY (or <dataDir>/cookie.key) is too short: expected at least ${MIN_COOKIE_KEY_BYTES} bytes, ` +
        `received ${bytes}. Use 32 random bytes, base64url-encoded (e.g. \`openssl rand -base64 32\`), or unset it to use the generated cookie.key`,
    );
  }
  return key;
}
