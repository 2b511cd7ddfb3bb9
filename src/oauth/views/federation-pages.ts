/** The pages of a sign-in through an external identity provider: first-time choice, and failures. */
import { escapeHtml as e, layout } from './layout.ts';

export interface FirstSignInPage {
  providerName: string;
  /** What the provider calls the user (username or e-mail), shown so they know which identity this is. */
  externalLabel?: string;
  csrf: string;
  createAction: string;
  linkAction: string;
  backHref: string;
  /** Create is not offered when the provider's e-mail belongs to a local account or is missing. */
  canCreate: boolean;
  username?: string;
  message?: string;
  /** A note about why create is not offered. */
  note?: string;
}

export function firstSignInPage(page: FirstSignInPage): string {
  const alert = page.message ? `<p class="alert" role="alert">${e(page.message)}</p>` : '';
  const who = page.externalLabel ? ` as <strong>${e(page.externalLabel)}</strong>` : '';
  const note = page.note ? `<p>${e(page.note)}</p>` : '';
  const create = page.canCreate
    ? `<h2>New here?</h2>
<form method="post" action="${e(page.createAction)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<button type="submit">Create a new account</button>
</form>
<h2>Already have an account?</h2>`
    : `<h2>Link to your account</h2>`;
  return layout('First sign-in', `<h1>First sign-in with ${e(page.providerName)}</h1>
<p>You signed in to ${e(page.providerName)}${who}. This identity is not linked to an account here yet.</p>
${alert}
${note}
${create}
<p>Sign in to it with its password to link ${e(page.providerName)} to it; next time ${e(page.providerName)} alone signs you in.</p>
<form method="post" action="${e(page.linkAction)}">
<input type="hidden" name="csrf" value="${e(page.csrf)}">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="128" value="${e(page.username ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
<button type="submit"${page.canCreate ? ' class="secondary"' : ''}>Sign in and link</button>
</form>
<a class="button secondary" href="${e(page.backHref)}">Back to sign-in</a>`);
}

/** A provider failed: say so, and lead back to the sign-in page where password sign-in and the other providers still work. */
export function federationErrorPage(title: string, message: string, backHref?: string): string {
  const back = backHref ? `\n<a class="button secondary" href="${e(backHref)}">Back to sign-in</a>` : '';
  return layout(title, `<h1>${e(title)}</h1>
<p role="alert">${e(message)}</p>${back}`);
}
