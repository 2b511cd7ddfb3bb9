/**
 * Where the bookstore CLI keeps its tokens: one JSON file only its user can read (0600, in a
 * 0700 directory), written whole or not at all (a temporary file renamed over the old one).
 *
 *   BOOKSTORE_CLI_TOKENS   the file (tests point it into a scratch directory)
 *   otherwise              $XDG_CONFIG_HOME/gatehouse-bookstore/tokens.json (~/.config/…)
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface StoredTokens {
  issuer: string;
  clientId: string;
  accessToken: string;
  /** Epoch seconds. */
  expiresAt: number;
  refreshToken?: string;
  /** Who signed in (the ID token's preferred_username or sub), for messages. */
  user: string;
}

export function tokenFilePath(env: NodeJS.ProcessEnv): string {
  if (env.BOOKSTORE_CLI_TOKENS) return env.BOOKSTORE_CLI_TOKENS;
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(configHome, 'gatehouse-bookstore', 'tokens.json');
}

export function readTokens(file: string): StoredTokens | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StoredTokens;
}

export function writeTokens(file: string, tokens: StoredTokens): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temporary, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 });
  chmodSync(temporary, 0o600); // whatever the umask
  renameSync(temporary, file);
}

export function removeTokens(file: string): boolean {
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}
