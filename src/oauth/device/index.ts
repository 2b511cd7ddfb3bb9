/**
 * The device authorization grant (RFC 8628), as one piece the OAuth component wires in:
 * oidc-provider's feature with our pages (./feature.ts), the polling gate in front of its grant
 * (./polling.ts, ./grant.ts), the audit and wrong-code counting (./middleware.ts), and the 429
 * at /device for an address that entered too many wrong codes.
 *
 *   POST /oauth2/device_authorization   the device asks for a device code and a user code
 *   GET  /device                        the person types the user code (or ?user_code=…)
 *   POST /device                        checks it → confirm page → sign-in (/interaction/…)
 *   GET  /device/:uid                   back from sign-in / consent → success page
 *   POST /oauth2/token                  the device polls (grant_type=urn:…:device_code)
 */
import type { FastifyInstance } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from '../../config/index.ts';
import type { AuditLog } from '../../events/audit.ts';
import type { Clock } from '../../shared/clock.ts';
import type { Logger } from '../../shared/logger.ts';
import { waitInWords } from '../../shared/html.ts';
import { createMemoryRefusalCounter, createRefusalLimiter, type RefusalLimiter } from '../../shared/refusal-limit.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { errorPage } from '../views/pages.ts';
import { createPollingGate, type PollingGate } from './polling.ts';
import { gateDeviceCodeGrant } from './grant.ts';
import { createDeviceMiddleware } from './middleware.ts';
import { CODE_VERIFICATION_ROUTE } from './feature.ts';

export { deviceFlowFeature, CODE_VERIFICATION_ROUTE, DEVICE_AUTHORIZATION_ROUTE } from './feature.ts';
export { DEVICE_CODE_GRANT } from './grant.ts';

export interface DeviceFlow {
  gate: PollingGate;
  userCodeLimiter: RefusalLimiter;
  /** Gates the provider's device_code grant and adds the device-flow middleware (each new provider instance). */
  install(provider: Provider): void;
  /** Answers 429 at POST /device to an address that entered too many wrong codes (before the provider runs). */
  registerGuard(app: FastifyInstance): void;
}

export function createDeviceFlow(deps: { config: Config; clock: Clock; audit: AuditLog; logger: Logger }): DeviceFlow {
  const { config, clock, audit, logger } = deps;
  const settings = config.deviceFlow;
  // One gate for the component's life: a provider rebuilt after a key rotation keeps the pacing.
  const gate = createPollingGate({ clock, interval: settings.interval, codeTtl: settings.codeTtl });
  const userCodeLimiter = createRefusalLimiter({
    counter: createMemoryRefusalCounter(),
    clock,
    settings: { limit: settings.userCodeAttempts, window: settings.userCodeWindow, block: settings.userCodeBlock },
    endpoints: { oauth: [], api: [], apiPrefixes: [], pages: [CODE_VERIFICATION_ROUTE] },
    onBlocked: ({ ip, bucket, until }) => audit.record({ event: 'ip.blocked', actor: `ip:${ip}`, ip, reason: bucket === 'shared' ? 'refusal_table_full' : 'too_many_user_codes', data: { until, bucket } }),
  });
  const middleware = createDeviceMiddleware({ audit, logger, userCodeLimiter, interval: settings.interval });

  return {
    gate,
    userCodeLimiter,
    install(provider) {
      gateDeviceCodeGrant(provider, gate);
      provider.use(middleware as unknown as Parameters<Provider['use']>[0]);
    },
    registerGuard(app) {
      app.addHook('onRequest', async (request, reply) => {
        if (request.method !== 'POST' || request.routeOptions.url !== CODE_VERIFICATION_ROUTE) return;
        const wait = await userCodeLimiter.retryAfter(request.ip);
        if (wait === 0) return;
        return reply.code(429).headers(PAGE_HEADERS()).header('retry-after', String(wait))
          .send(errorPage('Too many attempts', `Too many wrong codes were entered from your network. Try again in ${waitInWords(wait)}.`));
      });
    },
  };
}
