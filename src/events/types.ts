/**
 * Security events carried as Security Event Tokens (RFC 8417). Publishers hand the bus a typed
 * event; the bus signs it as a SET, stores it with a sequence number (so subscribers in other
 * processes can resume from the last event they saw) and delivers it.
 */

import type { StoreTransaction } from '../store/index.ts';
import type { PublishedEvent, SecurityEvent } from '../shared/security-events.ts';

export type { TokensRevoked, CertificateRevoked, KeysRotated, PolicyChanged, SecurityEvent, SecurityEventType, PublishedEvent } from '../shared/security-events.ts';

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
