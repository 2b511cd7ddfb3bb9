/**
 * Polling-rate enforcement for the device authorization grant (RFC 8628 §3.5). oidc-provider
 * answers every poll on its merits, however fast it comes (STACK-NOTES); this gate stands in
 * front of its device_code grant (./grant.ts) and answers `slow_down` to a poll that came sooner
 * than the code's interval after the previous one. Each `slow_down` adds 5 s to that code's
 * interval "for this and all subsequent requests", as the RFC tells the client to do.
 *
 * - The first poll of a code is never too fast: the interval bounds the gap BETWEEN polls.
 * - Every poll (answered or slowed down) restarts the wait, so a client that honours slow_down
 *   (waits its new interval after the refusal) is let through again.
 * - A poll up to `leewayMs` early still counts as on time: request latency and whole-second
 *   timers put a well-behaved client's polls a little under the interval apart now and then, and
 *   that must not lock it into slow_down until the code expires.
 *
 * Keys are SHA-256 digests of the device code (no secret sits in memory). In memory, per process,
 * bounded: entries end when their code would have expired; when full, the stalest goes.
 */
import type { Clock } from '../../shared/clock.ts';
import { sha256Hex } from '../../shared/random.ts';

/** RFC 8628 §3.5: the interval grows by 5 seconds on each `slow_down`. */
export const SLOW_DOWN_STEP_SECONDS = 5;

export interface PollingGateOptions {
  clock: Clock;
  /** Seconds between polls (the `interval` of the device authorization response). */
  interval: number;
  /** Seconds a code lives: its entry is forgotten after that. */
  codeTtl: number;
  /** How early a poll may come and still be on time (default: 1 s, or a fifth of the interval if less). */
  leewayMs?: number;
  maxEntries?: number;
}

export type PollVerdict = { ok: true } | { ok: false; interval: number };

export interface PollingGate {
  /** Records a poll of `deviceCode` now: `ok`, or too fast (the code's interval, already raised). */
  poll(deviceCode: string): PollVerdict;
  /** The code's current interval in seconds (the configured one for a code not polled yet). */
  intervalOf(deviceCode: string): number;
}

interface Entry {
  lastPollMs: number;
  interval: number;
  forgetAtMs: number;
}

export function createPollingGate(options: PollingGateOptions): PollingGate {
  const { clock, interval } = options;
  const leewayMs = options.leewayMs ?? Math.min(1000, (interval * 1000) / 5);
  const maxEntries = options.maxEntries ?? 100_000;
  const ttlMs = options.codeTtl * 1000;
  // Insertion order = order of first poll; entries are re-inserted on each poll, so the first is the stalest.
  const entries = new Map<string, Entry>();

  const sweep = (now: number) => {
    for (const [key, entry] of entries) {
      if (entry.forgetAtMs > now && entries.size < maxEntries) break;
      entries.delete(key);
    }
  };

  return {
    poll(deviceCode) {
      const now = clock.now();
      const key = sha256Hex(deviceCode);
      const entry = entries.get(key);
      entries.delete(key);
      if (entry === undefined || entry.forgetAtMs <= now) {
        sweep(now);
        entries.set(key, { lastPollMs: now, interval, forgetAtMs: now + ttlMs });
        return { ok: true };
      }
      const tooFast = now - entry.lastPollMs + leewayMs < entry.interval * 1000;
      const next = tooFast ? entry.interval + SLOW_DOWN_STEP_SECONDS : entry.interval;
      entries.set(key, { lastPollMs: now, interval: next, forgetAtMs: entry.forgetAtMs });
      return tooFast ? { ok: false, interval: next } : { ok: true };
    },
    intervalOf(deviceCode) {
      const entry = entries.get(sha256Hex(deviceCode));
      return entry !== undefined && entry.forgetAtMs > clock.now() ? entry.interval : interval;
    },
  };
}
