/**
 * Secrets the service generates on first start: they live in the data directory (mode 0700),
 * mode 0600, written atomically (temp file + rename). None is ever logged or committed. The data
 * directory also holds the SQLite database (password hashes, sessions, refresh tokens): a
 * directory or keyfile others can read is fixed (directory) or refused (keyfiles) at start.
 */
import { mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync, existsSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** POSIX modes mean nothing on Windows (every file reads as 0666/0444). */
const CHECK_MODES = process.platform !== 'win32';

/** Creates the data directory mode 0700, and restricts an existing one to 0700. */
export function ensureDataDir(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!CHECK_MODES || (statSync(dataDir).mode & 0o077) === 0) return;
  try {
    chmodSync(dataDir, 0o700);
  } catch (error) {
    throw new Error(`cannot restrict the data directory ${dataDir} to mode 0700 (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): run \`chmod 700 ${dataDir}\` as its owner`);
  }
}

/**
 * Writes `contents` to `path` atomically with mode 0600: a temp file with a random name created
 * exclusively (`wx`: fails on any existing file or symlink, so a pre-planted link cannot redirect
 * the write), then renamed over `path` (rename replaces a symlink, never follows it).
 */
export function writeSecretFile(path: string, contents: string): void {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  writeFileSync(temp, contents, { mode: 0o600, flag: 'wx' });
  try {
    chmodSync(temp, 0o600);
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

/** Refuses a keyfile that group or others can access: it would be the only copy of a secret. */
function assertPrivate(path: string): void {
  if (!CHECK_MODES) return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${path} is accessible by group or others (mode ${mode.toString(8).padStart(4, '0')}): run \`chmod 600 ${path}\``);
  }
}

/**
 * A secret an operator put in a file (`*File` options): the trimmed contents; a file that group or
 * others can read is refused, like the generated keyfiles.
 */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    assertPrivate(path);
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code === undefined ? error : new Error(`cannot read the secret file ${path} (${code})`);
  }
  if (text === '') throw new Error(`the secret file ${path} is empty`);
  return text;
}

/**
 * Returns the secret stored in `<dataDir>/<name>`, generating `bytes` random bytes (base64url)
 * the first time. `fromEnv`, when set, wins and nothing is written.
 */
export function loadOrCreateSecret(dataDir: string, name: string, bytes: number, fromEnv?: string): string {
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  ensureDataDir(dataDir);
  const path = join(dataDir, name);
  if (existsSync(path)) {
    assertPrivate(path);
    return readFileSync(path, 'utf8').trim();
  }
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
