/**
 * Secrets the service generates on first start: they live in the data directory, mode 0600,
 * written atomically (temp file + rename). None is ever logged or committed.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
}

/** Writes `contents` to `path` atomically with mode 0600. */
export function writeSecretFile(path: string, contents: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, contents, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/**
 * Returns the secret stored in `<dataDir>/<name>`, generating `bytes` random bytes (base64url)
 * the first time. `fromEnv`, when set, wins and nothing is written.
 */
export function loadOrCreateSecret(dataDir: string, name: string, bytes: number, fromEnv?: string): string {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  ensureDataDir(dataDir);
  const path = join(dataDir, name);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const secret = randomBytes(bytes).toString('base64url');
  writeSecretFile(path, `${secret}\n`);
  return secret;
}

/**
 * The master key (32 bytes) that encrypts private keys at rest: GATEHOUSE_MASTER_KEY (base64 or
 * base64url of 32 bytes) or the generated 0600 keyfile `<dataDir>/master.key`.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const text = loadOrCreateSecret(dataDir, 'master.key', 32, env.GATEHOUSE_MASTER_KEY);
  const key = Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (key.length !== 32) {
    throw new Error('GATEHOUSE_MASTER_KEY (or master.key) must be 32 bytes, base64-encoded');
  }
  return key;
}

/** Keys that sign the provider's cookies; rotating means prepending a new one. */
export function loadCookieKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return [loadOrCreateSecret(dataDir, 'cookie.key', 32, env.GATEHOUSE_COOKIE_KEY)];
}
