/**
 * Retry delays: exponential growth from `initialDelay`, capped at `maxDelay`, with jitter so
 * that many workloads that lost the CA at once do not come back in lock-step. Pure (the random
 * source is a parameter) so the policy is unit-tested; used by the SDK's certificate renewal and
 * by the CA's own TLS listener.
 */
export interface RetryPolicy {
  /** Delay before the first retry, ms. */
  initialDelay: number;
  /** Upper bound of the un-jittered delay, ms. */
  maxDelay: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * `full`: uniform in [0, d]; `equal`: uniform in [d/2, d] (never retries almost at once).
   * Default `equal`.
   */
  jitter?: 'full' | 'equal' | 'none';
}

/**
 * Delay before retry number `attempt` (0 for the first retry after the first failure).
 * `random` returns a number in [0, 1), as Math.random.
 */
export function retryDelay(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  if (!(policy.initialDelay > 0) || !(policy.maxDelay >= policy.initialDelay)) {
    throw new TypeError(`expected 0 < initialDelay <= maxDelay, received ${policy.initialDelay} and ${policy.maxDelay}`);
  }
  const factor = policy.factor ?? 2;
  // Capped before exponentiation overflows: attempt 1000 is still maxDelay, not Infinity/NaN.
  const steps = Math.max(0, Math.min(attempt, Math.ceil(Math.log(policy.maxDelay / policy.initialDelay) / Math.log(factor)) + 1));
  const base = Math.min(policy.maxDelay, policy.initialDelay * factor ** steps);
  switch (policy.jitter ?? 'equal') {
    case 'none':
      return base;
    case 'full':
      return Math.round(random() * base);
    case 'equal':
      return Math.round(base / 2 + random() * (base / 2));
  }
}

/**
 * A retry delay that does not run past what is left of a certificate's life: the policy's delay
 * (`retryDelay`), but at most half of `msLeft` — jittered the same way — so that a few more
 * attempts fit before expiry, each closer to it, instead of one scheduled after it. Never below
 * `floor` ms (default 100): a certificate about to expire is not a reason to hammer the CA. With
 * nothing left (`msLeft` ≤ 0: expired) it is the policy's delay.
 */
export function retryDelayWithin(policy: RetryPolicy, attempt: number, msLeft: number, random: () => number = Math.random, floor = 100): number {
  const delay = retryDelay(policy, attempt, random);
  if (!(msLeft > 0)) return delay;
  const cap = Math.floor(msLeft / 2);
  if (delay <= cap) return delay;
  return Math.max(floor, retryDelay({ ...policy, initialDelay: Math.max(1, cap), maxDelay: Math.max(1, cap) }, 0, random));
}

/**
 * When a certificate valid from `notBefore` to `notAfter` (ms) should be renewed: at `fraction`
 * of its lifetime. Returns the delay from `now`, at least 0.
 */
export function renewalDelay(notBefore: number, notAfter: number, fraction: number, now: number): number {
  if (!(fraction > 0 && fraction < 1)) throw new TypeError(`expected a renewal fraction in (0, 1), received ${fraction}`);
  return Math.max(0, notBefore + (notAfter - notBefore) * fraction - now);
}
