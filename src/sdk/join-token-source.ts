/**
 * Where a workload's join tokens come from. The first enrollment uses `joinToken` (a string), or
 * reads `joinTokenFile` / the environment variable `joinTokenEnv`. The file and the variable are
 * re-read at every later attempt, so a workload whose certificate expired while the CA was down
 * re-enrolls as soon as a fresh token is put there — no restart. A token already presented
 * (whatever the CA answered) is never presented again: a token works once.
 */
import { readFileSync } from 'node:fs';
import { parseJoinToken } from '../x509/index.ts';

export interface JoinTokenOptions {
  /** A join token (`gatehouse ca token --service …`). Used once, for the first enrollment. */
  joinToken?: string | undefined;
  /** A file holding the current join token (e.g. a mounted secret), re-read at every attempt. */
  joinTokenFile?: string | undefined;
  /** The name of an environment variable holding the current join token, re-read at every attempt. */
  joinTokenEnv?: string | undefined;
}

export interface JoinTokenSource {
  /** The first token: `joinToken`, else the file, else the variable. Throws a TypeError when none is there. */
  first(): string;
  /**
   * A token not presented before, from the file or the variable (never `joinToken`, it was
   * used); undefined when there is none yet.
   */
  fresh(): string | undefined;
  /** Records that `token` was presented to the CA. */
  used(token: string): void;
  /** Whether `fresh()` can ever give a token (a file or a variable was configured). */
  readonly renewable: boolean;
  /** Where fresh tokens are read from, for messages (`joinTokenFile /run/secrets/token`). */
  readonly where: string;
}

/** The token's id (its first part) identifies it without holding the secret. */
const idOf = (token: string) => parseJoinToken(token)?.id ?? token;

export function joinTokenSource(options: JoinTokenOptions): JoinTokenSource {
  const { joinToken, joinTokenFile, joinTokenEnv } = options;
  if (joinToken === undefined && joinTokenFile === undefined && joinTokenEnv === undefined) {
    throw new TypeError('workloadIdentity needs a join token: joinToken, joinTokenFile or joinTokenEnv');
  }
  const presented = new Set<string>();
  const readFile = (): string | undefined => {
    if (joinTokenFile === undefined) return undefined;
    try {
      return readFileSync(joinTokenFile, 'utf8').trim() || undefined;
    } catch {
      return undefined; // not there (yet): a later attempt reads it again
    }
  };
  const readEnv = (): string | undefined => (joinTokenEnv === undefined ? undefined : process.env[joinTokenEnv]?.trim() || undefined);
  const where = [joinTokenFile !== undefined ? `joinTokenFile ${joinTokenFile}` : undefined, joinTokenEnv !== undefined ? `$${joinTokenEnv}` : undefined].filter(Boolean).join(' or ');
  return {
    first() {
      const token = joinToken ?? readFile() ?? readEnv();
      if (token === undefined) throw new TypeError(`workloadIdentity found no join token in ${where}`);
      return token;
    },
    fresh() {
      for (const token of [readFile(), readEnv()]) if (token !== undefined && !presented.has(idOf(token))) return token;
      return undefined;
    },
    used(token) {
      presented.add(idOf(token));
    },
    renewable: joinTokenFile !== undefined || joinTokenEnv !== undefined,
    where: where || 'joinToken',
  };
}
