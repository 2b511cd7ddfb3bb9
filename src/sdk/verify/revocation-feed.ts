/**
 * Revocation pushed, not polled: the verifier subscribes to the Security Service's event stream
 * with a service credential, verifies each SET with the same key set as the tokens, and acts:
 * `tokens.revoked` → deny list, `keys.rotated` → refetch the keys, `policy.changed` → refetch
 * /policy. It starts at the beginning of the retained history, so revocations still in force when
 * the process starts are known; expired ones are skipped without a signature check. After a lost
 * connection it resumes after the last event it saw (Last-Event-ID).
 */
import { subscribeToEventStream, type EventStreamSubscription } from '../event-stream.ts';
import type { PublishedEvent } from '../../shared/security-events.ts';
import type { SdkLogger } from '../workload-identity.ts';
import type { TokenSource } from './types.ts';
import type { RemoteKeySet } from './remote-keys.ts';
import type { RevocationList } from './revocations.ts';
import type { PolicyClient } from './policy-client.ts';

/** The server sends a heartbeat every `events.heartbeat` (default 15 s): silence this long means a dead connection. */
const IDLE_TIMEOUT_MS = 90_000;
/** Clock skew allowed between the Security Service (SET `iat`) and this process. */
const SKEW_MS = 60_000;

export interface RevocationFeedDeps {
  issuer: string;
  fetch: typeof fetch;
  credentials: TokenSource;
  keys: RemoteKeySet;
  revocations: RevocationList;
  policy: PolicyClient;
  /** Called after the policy changed (the verified-token cache holds permissions of the old one). */
  onPolicyChanged: () => void;
  logger: SdkLogger;
  nowSeconds: () => number;
  /** Backoff bounds, ms (tests shorten them). */
  minBackoff?: number;
  maxBackoff?: number;
}

export function subscribeToRevocations(deps: RevocationFeedDeps): EventStreamSubscription {
  const { keys, revocations, policy, logger } = deps;

  /** Whether acting on the event could change anything: what could not is not even verified. */
  function relevant({ event, issuedAt }: PublishedEvent): boolean {
    switch (event.type) {
      case 'tokens.revoked':
        return event.until >= deps.nowSeconds();
      case 'keys.rotated':
        // A rotation older than the key set we hold is already in it (replayed history).
        return !keys.has(event.activeKid) || issuedAt * 1000 > keys.fetchedAt() - SKEW_MS;
      case 'policy.changed':
        return event.version !== policy.current()?.version;
      default:
        return false;
    }
  }

  function apply({ event, seq }: PublishedEvent): void {
    switch (event.type) {
      case 'tokens.revoked':
        revocations.add(event);
        return;
      case 'keys.rotated':
        keys.refresh().catch((error: unknown) => logger.warn({ err: error, seq }, 'refetching the issuer\'s keys after keys.rotated failed'));
        return;
      case 'policy.changed':
        policy
          .refresh()
          .then((changed) => { if (changed) deps.onPolicyChanged(); })
          .catch((error: unknown) => logger.warn({ err: error, seq }, 'refetching /policy after policy.changed failed'));
        return;
      default:
        return;
    }
  }

  return subscribeToEventStream({
    url: deps.issuer,
    fetch: deps.fetch,
    token: () => deps.credentials.token(),
    after: 0,
    verify: { issuer: deps.issuer, keys: keys.getEventKey },
    relevant,
    onEvent: apply,
    onConnection: (connected) => (connected ? logger.info({}, 'security event stream connected') : logger.warn({}, 'security event stream lost; revocations are not arriving until it reconnects')),
    onError: (error) => logger.warn({ err: { message: error.message } }, 'security event stream'),
    idleTimeout: IDLE_TIMEOUT_MS,
    ...(deps.minBackoff === undefined ? {} : { minBackoff: deps.minBackoff }),
    ...(deps.maxBackoff === undefined ? {} : { maxBackoff: deps.maxBackoff }),
  });
}
