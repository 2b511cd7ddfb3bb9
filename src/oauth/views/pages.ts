/** The pages of the sign-in flow: login, consent, logout confirmation, signed out, errors. */
import { escapeHtml as e, layout } from './layout.ts';

export interface LoginPage {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  username?: string;
  /** A message shown above the form (generic on failure: never says whether the account exists). */
  message?: string;
  /** "Sign in with …" links, one per external identity provider (docs/identity-providers.md). */
  providers?: Array<{ name: string; href: string }>;
}

export function loginPage(page: LoginPage): string {
  const alert = page.message ? `<p class="alert" role="alert">${e(page.message)}</p>` : '';
  return layout('Sign in', `<h1>Sign in</h1>
<p>to continue to <strong>${e(page.clientName)}</strong></p>
${alert}
<form method="post" action="${e(page.action)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${e(page.username ?? '')}"${page.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${page.username ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
${(page.providers ?? []).map((p) => `<a class="button secondary" href="${e(p.href)}">Sign in with ${e(p.name)}</a>`).join('\n')}
<form method="post" action="${e(page.abortAction)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<button type="submit" class="secondary">Cancel</button>
</form>`);
}

export interface ConsentPage {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  username: string;
  /** What the client will be able to do: plain words and the scope each comes from. */
  permissions: Array<{ text: string; scope: string }>;
}

export function consentPage(page: ConsentPage): string {
  const items = page.permissions.map((p) => `<li>${e(p.text)} <code class="scope">${e(p.scope)}</code></li>`).join('\n');
  return layout('Allow access', `<h1>Allow access?</h1>
<p><strong>${e(page.clientName)}</strong> asks to access your account <strong>${e(page.username)}</strong>. It is not part of Gatehouse.</p>
<h2 id="consent-scopes">${e(page.clientName)} will be able to</h2>
<ul class="scopes" aria-labelledby="consent-scopes">
${items}
</ul>
<p>It can do nothing else. You can disconnect it at any time from your account.</p>
<form method="post" action="${e(page.action)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<button type="submit" autofocus>Allow</button>
</form>
<form method="post" action="${e(page.abortAction)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<button type="submit" class="secondary">Deny</button>
</form>`);
}


export function errorPage(title: string, message: string, code?: string): string {
  const detail = code ? `<p class="code">Error: <code>${e(code)}</code></p>` : '';
  return layout(title, `<h1>${e(title)}</h1>
<p role="alert">${e(message)}</p>
${detail}`);
}

/** oidc-provider hands us its logout form (with its own CSRF token); we add the buttons. */
export function logoutPage(form: string, formId: string): string {
  return layout('Sign out', `<h1>Sign out?</h1>
<p>You will be signed out of Gatehouse and of the applications you used with it.</p>
${form}
<button type="submit" form="${e(formId)}" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="${e(formId)}" class="secondary">No, stay signed in</button>`);
}

export function signedOutPage(clientName?: string): string {
  const from = clientName ? ` of ${e(clientName)}` : '';
  return layout('Signed out', `<h1>Signed out</h1>
<p>You have been signed out${from}. You can close this window.</p>`);
}
