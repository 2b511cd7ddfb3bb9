/**
 * Runs around every oidc-provider request (after it answered) for the device flow:
 *
 *   device authorization, success → the answer carries `interval` (RFC 8628 §3.2; the polling
 *                                    gate enforces it, ./polling.ts)
 *   device authorization, refused  → audit `authorization.refused`; a client without the grant
 *                                    gets unauthorized_client (oidc-provider: invalid_request)
 *   GET /device?user_code=…        → our input page with the code filled in
 *   /device, user code refused     → audit `user_code.refused`, one wrong entry counted for the IP
 *   /device, user confirmed        → audit `device.authorized` (who, which app, which scopes)
 *   /device, user denied           → audit `device.denied`
 *
 * What happened is noted by the page sources (./feature.ts, ./outcome.ts). Never the user code
 * or the device code in an audit row: the user code is a short-lived secret too.
 */
import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { AuditLog } from '../../events/audit.ts';
import type { Logger } from '../../shared/logger.ts';
import type { RefusalLimiter } from '../../shared/refusal-limit.ts';
import { parseScope } from '../../shared/scope.ts';
import { outcomeOf } from './outcome.ts';
import { xsrfOf } from './feature.ts';
import { DEVICE_CODE_GRANT } from './grant.ts';
import { userCodeInputPage } from './pages.ts';
import { PAGE_HEADERS } from '../views/layout.ts';

type Ctx = KoaContextWithOIDC & Context;

export interface DeviceMiddlewareDeps {
  audit: AuditLog;
  logger: Logger;
  /** Wrong user codes per client IP. */
  userCodeLimiter: RefusalLimiter;
  interval: number;
}

function routeOf(ctx: Ctx): string | undefined {
  return Object.getOwnPropertyDescriptor(ctx, 'oidc') ? ctx.oidc.route : undefined;
}

export function createDeviceMiddleware(deps: DeviceMiddlewareDeps) {
  const { audit } = deps;
  async function afterDeviceAuthorization(ctx: Ctx): Promise<void> {
    const body = ctx.body as Record<string, unknown> | undefined;
    if (ctx.status === 200 && body && typeof body === 'object' && typeof body.device_code === 'string') {
      body.interval = deps.interval;
      return;
    }
    if (ctx.status < 400 || ctx.status >= 500) return;
    const client = ctx.oidc.client;
    if (body?.error === 'invalid_request' && client && !client.grantTypeAllowed(DEVICE_CODE_GRANT)) {
      // RFC 8628 §3.2 answers with RFC 6749 §5.2's codes, which name this case; oidc-provider says invalid_request.
      ctx.body = { error: 'unauthorized_client', error_description: 'the client is not allowed to use the device authorization grant' };
    }
    const error = (ctx.body as { error?: unknown }).error;
    await audit.record({ event: 'authorization.refused', actor: client ? `client:${client.clientId}` : `ip:${ctx.ip}`, clientId: client?.clientId, ip: ctx.ip, reason: typeof error === 'string' ? error : `http_${ctx.status}`, data: { delivery: 'device_authorization' } });
  }

  return async function deviceFlowMiddleware(ctx: Ctx, next: Next): Promise<void> {
    await next();
    const route = routeOf(ctx);
    if (route === 'device_authorization') {
      await afterDeviceAuthorization(ctx);
      return;
    }
    if (route === 'code_verification' && ctx.method === 'GET' && ctx.status === 200 && typeof ctx.oidc.params?.user_code === 'string') {
      // verification_uri_complete (`/device?user_code=…`): oidc-provider answers a self-submitting
      // form (an inline script); ours is the input page with the code filled in, one click away
      // from the confirm page, under the same strict CSP as every other page.
      ctx.set(PAGE_HEADERS());
      ctx.body = userCodeInputPage({ action: ctx.oidc.urlFor('code_verification'), xsrf: xsrfOf(String(ctx.body)), userCode: ctx.oidc.params.user_code.slice(0, 32) });
      return;
    }
    if (route !== 'code_verification' && route !== 'device_resume') return;
    const outcome = outcomeOf(ctx);
    if (outcome === undefined) return;
    const ip = ctx.ip;
    switch (outcome.kind) {
      case 'authorized':
        await audit.record({ event: 'device.authorized', actor: `user:${outcome.accountId}`, subject: outcome.accountId ?? null, clientId: outcome.clientId, ip, data: { scopes: parseScope(outcome.scope) } });
        break;
      case 'denied':
        await audit.record({ event: 'device.denied', actor: outcome.accountId ? `user:${outcome.accountId}` : `ip:${ip}`, subject: outcome.accountId ?? null, clientId: outcome.clientId, ip, reason: 'user_denied' });
        break;
      case 'refused':
        await audit.record({ event: 'user_code.refused', actor: `ip:${ip}`, ip, reason: outcome.reason });
        try {
          await deps.userCodeLimiter.refused(ip);
        } catch (error) {
          deps.logger.error({ err: error }, 'user code limiter failed');
        }
        break;
    }
  };
}
