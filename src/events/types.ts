/**
 * Security events carried as Security Event Tokens (RFC 8417). Publishers hand the bus a typed
 * event; the bus signs it as a SET, stores it with a sequence number (so subscribers in other
 * processes can resume from the last event they saw) and delivers it.
 */

import type { StoreTransaction } from '../store/index.ts';

/** Everything a gateway or service needs to deny a user's still-unexpired JWTs. */
export interface TokensRevoked {
  type: 'tokens.revoked';
  /** `sub` of the affected tokens. */
  subject: string;
  /** Set when one session (sid) is affected rather than every session of the subject. */
  sessionId?: string | undefined;
  /** `jti` of access tokens known to be outstanding. */
  tokenIds: string[];
  /** Deny tokens of this subject (and session, if set) issued at or before this time (epoch s). */
  issuedBefore: number;
  /** After this time (epoch s) every affected token has expired: the deny entry can be dropped. */
  until: number;
  /**
   * Why: `logout`, `user_disabled`, `password_changed`, `grant_revoked`, `refresh_token_reused`,
   * `code_reused`, `revoked_by_client`, `client_removed` (docs/events.md).
   */
  reason: string;
}

export interface CertificateRevoked {
  type: 'certificate.revoked';
  /** Serial numbers (lower-case hex, no leading zeros). */
  serials: string[];
  service: string;
  /** Latest notAfter among the revoked certificates (epoch s). */
  until: number;
  reason: string;
}

export interface KeysRotated {
  type: 'keys.rotated';
  /** The kid that signs from now on. */
  activeKid: string;
}

export interface PolicyChanged {
  type: 'policy.changed';
  version: string;
}

export type SecurityEvent = TokensRevoked | CertificateRevoked | KeysRotated | PolicyChanged;
export type SecurityEventType = SecurityEvent['type'];

export interface PublishedEvent {
  /** Position in the stream; subscribers resume after the last one they saw. */
  seq: number;
  /** `jti` of the SET. */
  id: string;
  event: SecurityEvent;
  /** The signed SET (compact JWS, `typ: secevent+jwt`). */
  set: string;
  /** Epoch seconds. */
  issuedAt: number;
}

export type EventListener = (event: PublishedEvent) => void;

export interface PublishOptions {
  /**
   * Append the event inside this transaction (opened by `store.transaction()`): it is stored only
   * if the transaction commits, and in-process listeners get it after the commit, not before.
   */
  trx?: StoreTransaction;
}

export interface EventBus {
  /** Resolves once the event is stored (with `trx`: written, not yet committed). */
  publish(event: SecurityEvent, options?: PublishOptions): Promise<PublishedEvent>;
  /** Returns an unsubscribe function. Listeners must not throw; errors are logged. */
  subscribe(listener: EventListener): () => void;
  close(): Promise<void>;
}
