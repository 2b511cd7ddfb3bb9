/**
 * The two secrets of browser sessions, read once at start: the SSO client's secret and the cookie
 * keys. Each comes from its environment variable or else from the file named in `gateway.sso`;
 * neither is ever logged or echoed in an error.
 *
 * Cookie keys are 32 random bytes, base64 or base64url (`openssl rand -base64 32`). Several,
 * comma-separated (or one per line in the file), make a rotation: the first seals new cookies,
 * all of them open existing ones.
 */
import { resolve } from 'node:path';
import { readSecretFile, type Config } from '../../config/index.ts';

export interface BrowserSessionSecrets {
  clientSecret: string;
  /** Current key first. */
  cookieKeys: Uint8Array[];
}

const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Parses one or more cookie keys; the message names the source and what was expected, never a key. */
export function parseCookieKeys(text: string, source: string): Uint8Array[] {
  const parts = text.split(/[,\n]/).map((part) => part.trim()).filter((part) => part !== '');
  if (parts.length === 0) throw new Error(`${source} holds no cookie key: expected 32 random bytes, base64-encoded`);
  return parts.map((part, index) => {
    const bytes = BASE64.test(part) ? Buffer.from(part.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url') : Buffer.alloc(0);
    if (bytes.length !== KEY_BYTES) {
      throw new Error(`${source}: cookie key ${index + 1} must be ${KEY_BYTES} bytes, base64-encoded (e.g. \`openssl rand -base64 32\`); received ${bytes.length} bytes`);
    }
    return new Uint8Array(bytes);
  });
}

/**
 * Reads the secrets `gateway.sso` names (files relative to `baseDir`, the config file's folder;
 * mode 0600). Throws a one-line message when one is missing or malformed.
 */
export function loadBrowserSessionSecrets(config: Config, env: NodeJS.ProcessEnv = process.env, baseDir = process.cwd()): BrowserSessionSecrets {
  const sso = config.gateway.sso;
  if (!sso) throw new TypeError('gateway.sso is not configured');
  const fromFile = (file: string | undefined) => (file === undefined ? undefined : readSecretFile(resolve(baseDir, file)));
  const clientSecret = env.GATEHOUSE_GATEWAY_SSO_SECRET || fromFile(sso.secretFile);
  if (!clientSecret) throw new Error('gateway.sso needs the client secret: set GATEHOUSE_GATEWAY_SSO_SECRET or gateway.sso.secretFile');
  const keysText = env.GATEHOUSE_GATEWAY_COOKIE_KEY || fromFile(sso.cookieKeyFile);
  if (!keysText) throw new Error('gateway.sso needs a cookie key: set GATEHOUSE_GATEWAY_COOKIE_KEY or gateway.sso.cookieKeyFile (32 random bytes, base64: `openssl rand -base64 32`)');
  const source = env.GATEHOUSE_GATEWAY_COOKIE_KEY ? 'GATEHOUSE_GATEWAY_COOKIE_KEY' : `gateway.sso.cookieKeyFile (${sso.cookieKeyFile})`;
  return { clientSecret, cookieKeys: parseCookieKeys(keysText, source) };
}
