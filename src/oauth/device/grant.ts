/**
 * Puts the polling gate (./polling.ts) in front of oidc-provider's device_code grant: after the
 * client has authenticated and the parameters are checked, before the device code is looked up.
 * A poll that comes too soon is answered `slow_down` (RFC 8628 §3.5) without touching the store;
 * any other poll goes on to oidc-provider, which answers authorization_pending, expired_token,
 * access_denied, invalid_grant or the tokens.
 */
import type Provider from 'oidc-provider';
import { errors } from 'oidc-provider';
import instance from 'oidc-provider/lib/helpers/weak_cache.js';
import type { PollingGate } from './polling.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

interface PollContext {
  oidc: { params?: Record<string, unknown> };
}

export function gateDeviceCodeGrant(provider: Provider, gate: PollingGate): void {
  const handlers = instance(provider).grantTypeHandlers;
  const original = handlers.get(DEVICE_CODE_GRANT);
  if (original === undefined) throw new TypeError('features.deviceFlow must be enabled before its grant can be gated');
  handlers.set(DEVICE_CODE_GRANT, async (ctx) => {
    const code = (ctx as PollContext).oidc.params?.device_code;
    // A missing code is oidc-provider's invalid_request; only real polls are paced.
    if (typeof code === 'string' && code !== '' && !gate.poll(code).ok) {
      throw new errors.SlowDown('polled faster than the interval; the interval for this device code is now longer by 5 seconds');
    }
    await original(ctx);
  });
}
