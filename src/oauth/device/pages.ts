/**
 * The pages of the device flow at /device (RFC 8628 §3.3): enter the code shown on the device,
 * confirm it (which app, which code, what it may do), then, after sign-in (and consent for a
 * third-party app), the success page. Same shell as the sign-in pages: no scripts, strict CSP.
 *
 * The forms carry oidc-provider's own CSRF token (`xsrf`, kept in its session) and post back to
 * its code_verification endpoint, which checks it.
 */
import { escapeHtml as e, layout } from '../views/layout.ts';

export interface UserCodeInputPage {
  action: string;
  xsrf: string;
  /** What the user typed, shown again after a wrong code. */
  userCode?: string;
  /** Shown above the form (an alert) when a code was refused or the request ended. */
  message?: string;
}

export function userCodeInputPage(page: UserCodeInputPage): string {
  const alert = page.message ? `<p class="alert" role="alert">${e(page.message)}</p>` : '';
  return layout('Connect a device', `<h1>Connect a device</h1>
<p>Enter the code shown on your device or in your terminal.</p>
${alert}
<form method="post" action="${e(page.action)}">
<input type="hidden" name="xsrf" value="${e(page.xsrf)}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${e(page.userCode ?? '')}" type="text" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required maxlength="32" aria-describedby="user_code_hint" autofocus>
<p id="user_code_hint" class="code">Eight letters, like <code>BDFG-HJKL</code>; dashes and case do not matter.</p>
<button type="submit">Continue</button>
</form>`);
}

export interface UserCodeConfirmPage {
  action: string;
  xsrf: string;
  /** As shown on the device (with its dash). */
  userCode: string;
  clientName: string;
  /** What the app asks to do: plain words and the scope they come from. */
  permissions: Array<{ text: string; scope: string }>;
  /** The account already signed in here (the device will act as it), if any. */
  username?: string;
}

export function userCodeConfirmPage(page: UserCodeConfirmPage): string {
  const items = page.permissions.map((p) => `<li>${e(p.text)} <code class="scope">${e(p.scope)}</code></li>`).join('\n');
  return layout('Confirm the device', `<h1>Is this your device?</h1>
<p><strong>${e(page.clientName)}</strong> asks to sign in with the code</p>
<p class="user-code"><code>${e(page.userCode)}</code></p>
<p>Continue only if this is the code your device or terminal shows and you started this sign-in yourself.${page.username ? ` The device will act as <strong>${e(page.username)}</strong>, the account signed in here.` : ''} It asks to:</p>
<ul class="scopes">
${items}
</ul>
<form method="post" action="${e(page.action)}">
<input type="hidden" name="xsrf" value="${e(page.xsrf)}">
<input type="hidden" name="user_code" value="${e(page.userCode)}">
<button type="submit" name="confirm" value="yes">Continue</button>
<button type="submit" name="abort" value="yes" class="secondary">Deny</button>
</form>`);
}

export function deviceSuccessPage(clientName: string): string {
  return layout('Device connected', `<h1>Device connected</h1>
<p role="status"><strong>${e(clientName)}</strong> is now signed in. You can close this window and go back to your device.</p>`);
}

export function deviceDeniedPage(): string {
  return layout('Request denied', `<h1>Request denied</h1>
<p role="status">The device was not signed in. You can close this window.</p>`);
}
