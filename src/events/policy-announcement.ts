/**
 * Roles and permissions come from gatehouse.yaml, so the policy changes when an instance starts
 * with a changed config. At start the service publishes `policy.changed` when the policy version
 * differs from the last one announced on the stream: gateways and services then re-fetch /policy
 * instead of waiting for their cache to expire. Instances that start at the same moment may both
 * announce the same version; a repeated `policy.changed` only causes one more (conditional) fetch.
 */
import type { Store } from '../store/index.ts';
import type { EventBus } from './types.ts';
import { decodeSet } from '../shared/security-events.ts';

export async function announcePolicyVersion(bus: EventBus, store: Store, version: string): Promise<boolean> {
  const last = await store.db
    .selectFrom('security_events')
    .select(['seq', 'set_jwt'])
    .where('event_type', '=', 'policy.changed')
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  const announced = last ? decodeSet(last.set_jwt, Number(last.seq)) : null;
  if (announced?.event.type === 'policy.changed' && announced.event.version === version) return false;
  await bus.publish({ type: 'policy.changed', version });
  return true;
}
