/**
 * The username of an account created from an external identity: the provider's claim made valid
 * (3–64 of letters, digits, ".", "_", "-") and unique (a numeric suffix, then a random one).
 */
import { randomBytes } from 'node:crypto';

export function usernameBase(claim: string | undefined, email: string | undefined, provider: string): string {
  const source = claim ?? email?.split('@')[0] ?? `${provider}-user`;
  let base = source.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '').slice(0, 56);
  if (base.length < 3) base = `${provider}-${base || 'user'}`.slice(0, 56);
  return base;
}

/** Candidates in order: base, base-2 … base-9, then base-<random>. */
export function* usernameCandidates(base: string): Generator<string> {
  yield base;
  for (let n = 2; n <= 9; n++) yield `${base}-${n}`;
  for (;;) yield `${base}-${randomBytes(3).toString('hex')}`;
}
