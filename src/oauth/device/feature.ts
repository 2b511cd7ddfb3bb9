/**
 * oidc-provider's `features.deviceFlow` (RFC 8628) with Gatehouse's pages. oidc-provider runs the
 * flow: it issues device and user codes, checks its CSRF token (`xsrf`, in its session cookie),
 * looks the user code up, sends the browser through sign-in and consent (/interaction/:uid), and
 * answers the polls. These sources only render, and note the outcome for the audit (./middleware.ts).
 *
 * User codes: 8 letters from a 20-letter alphabet without vowels (no words, nothing to confuse)
 * shown as XXXX-XXXX: 20^8 ≈ 2.6·10^10 codes, and wrong entries are limited per client IP.
 */
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { UserLookup } from '../types.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { deviceDeniedPage, deviceSuccessPage, userCodeConfirmPage, userCodeInputPage } from './pages.ts';
import { describeScopes } from './scopes.ts';
import { noteOutcome } from './outcome.ts';

/** The verification URI (RFC 8628 §3.2): short enough to type from a terminal. */
export const CODE_VERIFICATION_ROUTE = '/device';
export const DEVICE_AUTHORIZATION_ROUTE = '/oauth2/device_authorization';

/** One message for an unknown, expired or used code: the page never tells which. */
const WRONG_CODE = 'That code is not valid or has expired. Check the code on your device and try again, or start again on the device.';

/** The CSRF token oidc-provider put into its form (a hex secret kept in its session). */
export function xsrfOf(form: string): string {
  return /name="xsrf" value="([0-9a-f]+)"/.exec(form)?.[1] ?? '';
}

interface DeviceCodeEntity {
  clientId?: string;
  accountId?: string;
  scope?: string;
  params?: { scope?: unknown };
}

function deviceCodeOf(ctx: KoaContextWithOIDC): DeviceCodeEntity | undefined {
  return ctx.oidc.entities.DeviceCode as DeviceCodeEntity | undefined;
}

export function deviceFlowFeature(deps: { users: UserLookup; descriptions: ReadonlyMap<string, string> }) {
  return {
    enabled: true,
    charset: 'base-20' as const,
    mask: '****-****',
    async userCodeInputSource(ctx: KoaContextWithOIDC, form: string, out?: { error?: string }, err?: Error & { userCode?: string; statusCode?: number }) {
      ctx.set(PAGE_HEADERS());
      const action = ctx.oidc.urlFor('code_verification');
      if (err?.name === 'AbortedError') {
        // The user pressed Deny (here or on the consent page): the device gets access_denied.
        // On the confirm page the device code is loaded; coming back from a denied consent, only
        // the interaction (whose parameters name the client) is.
        const interactionClient = (ctx.oidc.entities.Interaction as { params?: { client_id?: unknown } } | undefined)?.params?.client_id;
        const clientId = deviceCodeOf(ctx)?.clientId ?? ctx.oidc.client?.clientId ?? (typeof interactionClient === 'string' ? interactionClient : undefined);
        noteOutcome(ctx, { kind: 'denied', clientId, accountId: ctx.oidc.session?.accountId });
        ctx.status = 200;
        ctx.body = deviceDeniedPage();
        return;
      }
      let message: string | undefined;
      if (err?.name === 'NoCodeError') {
        message = 'Enter the code shown on your device.';
        ctx.status = 400;
        noteOutcome(ctx, { kind: 'refused', reason: 'no_code' });
      } else if (err?.name === 'NotFoundError' || err?.name === 'ExpiredError' || err?.name === 'AlreadyUsedError') {
        message = WRONG_CODE;
        ctx.status = 400;
        noteOutcome(ctx, { kind: 'refused', reason: err.name === 'NotFoundError' ? 'not_found' : err.name === 'ExpiredError' ? 'expired' : 'already_used' });
      } else if (err !== undefined) {
        const status = err.statusCode ?? 500;
        message = status >= 500 ? 'Something went wrong; nothing was changed. Try again.' : 'This form expired. Enter the code again.';
        if (status < 500) noteOutcome(ctx, { kind: 'refused', reason: out?.error ?? 'invalid_request' });
      }
      ctx.body = userCodeInputPage({ action, xsrf: xsrfOf(form), ...(err?.userCode ? { userCode: String(err.userCode).slice(0, 32) } : {}), ...(message ? { message } : {}) });
    },
    async userCodeConfirmSource(ctx: KoaContextWithOIDC, form: string, client: { clientId: string; clientName?: string }, _deviceInfo: unknown, userCode: string) {
      ctx.set(PAGE_HEADERS());
      const requested = deviceCodeOf(ctx)?.params?.scope;
      // With a live session there is no sign-in step after this page: say whose account it is.
      const accountId = ctx.oidc.session?.accountId;
      const signedIn = accountId ? await deps.users.findById(accountId) : undefined;
      ctx.body = userCodeConfirmPage({
        ...(signedIn?.status === 'active' ? { username: signedIn.username } : {}),
        action: ctx.oidc.urlFor('code_verification'),
        xsrf: xsrfOf(form),
        userCode,
        clientName: client.clientName ?? client.clientId,
        permissions: describeScopes(typeof requested === 'string' ? requested : '', deps.descriptions),
      });
    },
    async successSource(ctx: KoaContextWithOIDC) {
      ctx.set(PAGE_HEADERS());
      const client = ctx.oidc.client;
      const code = deviceCodeOf(ctx);
      noteOutcome(ctx, { kind: 'authorized', clientId: client?.clientId, accountId: code?.accountId, scope: code?.scope });
      ctx.body = deviceSuccessPage(client?.clientName ?? client?.clientId ?? 'The device');
    },
  };
}
