/**
 * Refresh-token rotations cut off by a store outage. oidc-provider consumes the presented refresh
 * token before it stores its successor and answers; when the store fails in between (or while we
 * audit the success), the client is answered 503 and keeps only the old token — which is now
 * consumed, so its retry would count as reuse and revoke the whole grant. The client never saw
 * the successor, so nothing was handed out: such a rotation is undone (the old token unconsumed,
 * the orphaned successor deleted) as soon as the store answers again — in the background with
 * backoff, and at once when the client presents the old token again (the adapter asks first).
 *
 * In memory, per process: a retry that reaches another instance before this one has restored the
 * token is still treated as reuse.
 */
import type { Store } from '../store/index.ts';
import type { Logger } from '../shared/logger.ts';
import { retryDelay } from '../shared/backoff.ts';

export interface InterruptedRotations {
  /** The rotation that consumed `consumedId` (and stored `successorId`, if it got that far) failed with a 503. */
  remember(consumedId: string, successorId: string | undefined): void;
  /** Before `id` is read: if its rotation was interrupted, undo it now (throws while the store is still down). */
  settle(id: string): Promise<void>;
  close(): void;
}

/** How long an interrupted rotation is kept for restoring; past it the client has given up. */
const KEEP_MS = 15 * 60 * 1000;
const RETRY = { initialDelay: 250, maxDelay: 10_000 };

export function createInterruptedRotations(deps: { store: Store; logger: Logger }): InterruptedRotations {
  const { store, logger } = deps;
  const pending = new Map<string, { successorId: string | undefined; since: number; timer?: NodeJS.Timeout }>();

  async function restore(id: string): Promise<void> {
    const entry = pending.get(id);
    if (!entry) return;
    await store.transaction(async (trx) => {
      await trx.updateTable('oidc_models').set({ consumed_at: null }).where('model', '=', 'RefreshToken').where('id', '=', id).execute();
      if (entry.successorId !== undefined) await trx.deleteFrom('oidc_models').where('model', '=', 'RefreshToken').where('id', '=', entry.successorId).execute();
    });
    clearTimeout(entry.timer);
    pending.delete(id);
    logger.info({ grantRotation: 'restored' }, 'refresh token rotation interrupted by a store outage was undone');
  }

  function schedule(id: string, attempt: number): void {
    const entry = pending.get(id);
    if (!entry) return;
    if (Date.now() - entry.since > KEEP_MS) {
      pending.delete(id);
      return;
    }
    entry.timer = setTimeout(() => {
      restore(id).catch(() => schedule(id, attempt + 1));
    }, retryDelay(RETRY, attempt)).unref();
  }

  return {
    remember(consumedId, successorId) {
      if (pending.has(consumedId)) return;
      pending.set(consumedId, { successorId, since: Date.now() });
      schedule(consumedId, 0);
    },
    settle: (id) => (pending.has(id) ? restore(id) : Promise.resolve()),
    close() {
      for (const entry of pending.values()) clearTimeout(entry.timer);
      pending.clear();
    },
  };
}
