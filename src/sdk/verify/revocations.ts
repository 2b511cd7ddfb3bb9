/**
 * Tokens denied before they expire, from `tokens.revoked` events (docs/events.md): by `jti`, by
 * subject (tokens issued at or before `issuedBefore`) and by subject + session (`sid`). Each
 * entry is dropped after its `until`, when every token it covers has expired anyway.
 */
import type { TokensRevoked } from '../../shared/security-events.ts';

interface Cutoff {
  /** Epoch s: tokens issued at or before are denied. */
  issuedBefore: number;
  /** Epoch s: the entry may be dropped after it. */
  until: number;
}

interface SubjectEntry {
  all: Cutoff | undefined;
  sessions: Map<string, Cutoff> | undefined;
}

/** What a revocation check needs of a token. */
export interface RevocationSubject {
  readonly tokenId: string;
  readonly subject: string;
  readonly sessionId: string | undefined;
  readonly issuedAt: number;
}

export interface RevocationList {
  add(event: TokensRevoked): void;
  /** True when an unexpired entry denies the token. */
  denies(token: RevocationSubject): boolean;
  /** Entries held (0: nothing to check, the hot path skips the lookups). */
  size(): number;
  prune(): void;
}

const merge = (current: Cutoff | undefined, next: Cutoff): Cutoff =>
  current === undefined ? next : { issuedBefore: Math.max(current.issuedBefore, next.issuedBefore), until: Math.max(current.until, next.until) };

export function createRevocationList(nowSeconds: () => number): RevocationList {
  const byJti = new Map<string, number>();
  const bySubject = new Map<string, SubjectEntry>();

  function denies(token: RevocationSubject): boolean {
    const now = nowSeconds();
    if (byJti.size !== 0) {
      const until = byJti.get(token.tokenId);
      if (until !== undefined && until >= now) return true;
    }
    if (bySubject.size === 0) return false;
    const entry = bySubject.get(token.subject);
    if (entry === undefined) return false;
    if (entry.all !== undefined && entry.all.until >= now && token.issuedAt <= entry.all.issuedBefore) return true;
    if (entry.sessions !== undefined && token.sessionId !== undefined) {
      const cutoff = entry.sessions.get(token.sessionId);
      if (cutoff !== undefined && cutoff.until >= now && token.issuedAt <= cutoff.issuedBefore) return true;
    }
    return false;
  }

  return {
    add(event) {
      if (event.until < nowSeconds()) return;
      for (const jti of event.tokenIds) byJti.set(jti, Math.max(byJti.get(jti) ?? 0, event.until));
      // issuedBefore 0: only the listed jtis.
      if (event.issuedBefore <= 0 || event.subject === '') return;
      const cutoff = { issuedBefore: event.issuedBefore, until: event.until };
      const entry = bySubject.get(event.subject) ?? { all: undefined, sessions: undefined };
      if (event.sessionId === undefined) entry.all = merge(entry.all, cutoff);
      else (entry.sessions ??= new Map()).set(event.sessionId, merge(entry.sessions.get(event.sessionId), cutoff));
      bySubject.set(event.subject, entry);
    },
    denies,
    size: () => byJti.size + bySubject.size,
    prune() {
      const now = nowSeconds();
      for (const [jti, until] of byJti) if (until < now) byJti.delete(jti);
      for (const [subject, entry] of bySubject) {
        if (entry.all !== undefined && entry.all.until < now) entry.all = undefined;
        if (entry.sessions !== undefined) {
          for (const [sid, cutoff] of entry.sessions) if (cutoff.until < now) entry.sessions.delete(sid);
          if (entry.sessions.size === 0) entry.sessions = undefined;
        }
        if (entry.all === undefined && entry.sessions === undefined) bySubject.delete(subject);
      }
    },
  };
}
