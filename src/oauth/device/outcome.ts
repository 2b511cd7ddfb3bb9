/**
 * What a device-flow page request ended with, noted by the page sources (./feature.ts) on the
 * request's koa state and read by ./middleware.ts after oidc-provider has answered (to audit,
 * and to count wrong user codes).
 */
export type DeviceOutcome =
  | { kind: 'authorized'; clientId: string | undefined; accountId: string | undefined; scope: string | undefined }
  | { kind: 'denied'; clientId: string | undefined; accountId: string | undefined }
  | { kind: 'refused'; reason: string };

const KEY = 'gatehouseDevice';

interface HasState {
  state: Record<string, unknown>;
}

export function noteOutcome(ctx: unknown, outcome: DeviceOutcome): void {
  (ctx as HasState).state[KEY] = outcome;
}

export function outcomeOf(ctx: unknown): DeviceOutcome | undefined {
  return (ctx as HasState).state[KEY] as DeviceOutcome | undefined;
}
