/**
 * Time as a dependency: components take a `Clock` so tests can freeze or move time.
 * All persisted timestamps are integer seconds since the epoch.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export function epochSeconds(clock: Clock = systemClock): number {
  return Math.floor(clock.now() / 1000);
}

/** A clock for tests: starts at `start` and only moves when told. */
export function frozenClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void; set(ms: number): void } {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) { current += ms; },
    set(ms: number) { current = ms; },
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses durations like `90s`, `10m`, `1h`, `14d`, `500ms` into milliseconds; a bare number is seconds (`90`), as in the config. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new TypeError(`expected a duration like 90 (seconds), 30s, 10m, 1h or 14d, received ${JSON.stringify(text)}`);
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}
