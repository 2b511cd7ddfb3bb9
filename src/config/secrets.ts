/**
 * Secrets the service generates on first start: they live in the data directory (mode 0700),
 * mode 0600, written whole and durably (temp file, fsync, then link or rename, fsync of the
 * directory). A generated key is created WITHOUT replacing: two processes starting together on a
 * fresh data directory both end up with the key of whichever linked first, never one that sealed
 * rows under a key that is then replaced on disk. None is ever logged or committed. The data
 * directory also holds the SQLite database (password hashes, sessions, refresh tokens): a
 * directory or keyfile others can read is fixed (directory) or refused (keyfiles) at start.
 */
import { mkdirSync, readFileSync, renameSync, linkSync, chmodSync, existsSync, statSync, rmSync, openSync, writeFileSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/** Makes a rename or link in `dir` durable (a no-op where directories cannot be opened: Windows). */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (error) {
    if (process.platform !== 'win32') throw error;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Writes `contents` to `path` with mode 0600, whole and durably: a temp file with a random name
 * created exclusively (`wx`: fails on any existing file or symlink, so a pre-planted link cannot
 * redirect the write) and fsynced, then put in place and the directory fsynced.
 * - default: renamed over `path` (rename replaces a symlink, never follows it);
 * - `exclusive`: hard-linked to `path`, which fails if anything exists there — nothing is ever
 *   replaced. Returns false when `path` already existed (another process won), true otherwise.
 */
export function writeSecretFile(path: string, contents: string, options: { exclusive?: boolean } = {}): boolean {
  const temp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeFileSync(fd, contents);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let created = true;
  try {
    chmodSync(temp, 0o600);
    if (options.exclusive) {
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        created = false;
      }
    } else {
      renameSync(temp, path);
    }
  } finally {
    rmSync(temp, { force: true });
  }
  fsyncDirectory(dirname(path));
  return created;
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
  // Whoever links first wins; everyone (the winner too) then uses what is on disk.
  if (!existsSync(path)) writeSecretFile(path, `${randomBytes(bytes).toString('base64url')}\n`, { exclusive: true });
  assertPrivate(path);
  return readFileSync(path, 'utf8').trim();
}

/**
 * The master key (32 bytes) that encrypts private keys at rest: GATEHOUSE_MASTER_KEY (base64 or
 * base64url of 32 bytes) or the generated 0600 keyfile `<dataDir>/master.key`.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  return decodeMasterKey(loadOrCreateSecret(dataDir, 'master.key', 32, env.GATEHOUSE_MASTER_KEY), 'GATEHOUSE_MASTER_KEY (or master.key)');
}

/** A master key as written in master.key: 32 bytes, base64 or base64url. `source` names it in the error. */
export function decodeMasterKey(text: string, source: string): Buffer {
  const key = Buffer.from(text.trim().replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  if (key.length !== 32) throw new Error(`${source} must be 32 bytes, base64-encoded`);
  return key;
}

/** Keys that sign the provider's cookies; rotating means prepending a new one. */
export function loadCookieKeys(dataDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return [loadOrCreateSecret(dataDir, 'cookie.key', 32, env.GATEHOUSE_COOKIE_KEY)];
}
