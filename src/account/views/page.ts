/** The account page as a whole, and the pages shown instead of it (not signed in, refused form). */
import { escapeHtml as e, layout } from '../../oauth/index.ts';
import type { AccountSession, AccountUser, ApiTokenSummary, ConnectedApp, LinkedIdentity } from '../types.ts';
import type { Flash } from '../flash.ts';
import { apiTokensSection, connectedAppsSection, linkedIdentitiesSection, newTokenNotice, passwordSection, profileSection, sessionsSection, type PasswordMode } from './sections.ts';

export interface AccountView {
  user: AccountUser;
  csrf: string;
  flash: Flash | undefined;
  /** The curl example's URL for a new token. */
  apiExampleUrl: string;
  passwordPolicy: { minLength: number };
  /** `change` unless the account has no password (see passwordSection). */
  passwordMode?: PasswordMode | undefined;
  sessions: AccountSession[];
  current: AccountSession;
  /** undefined: that section is not configured. */
  apiTokens: ApiTokenSummary[] | undefined;
  scopeChoices: string[];
  /** apiTokens.maxTtl: longer expiry choices are not offered. */
  apiTokenMaxTtl?: number | undefined;
  connectedApps: ConnectedApp[] | undefined;
  linkedIdentities: LinkedIdentity[] | undefined;
}

function flashHtml(flash: Flash | undefined, apiExampleUrl: string): string {
  if (!flash) return '';
  const cls = flash.kind === 'error' ? 'alert' : 'notice';
  const message = `<p class="${cls}" role="alert">${e(flash.message)}</p>`;
  if (flash.token === undefined) return message;
  return `${message}\n${newTokenNotice({ token: flash.token, curl: `curl -H "Authorization: Bearer ${flash.token}" ${apiExampleUrl}` })}`;
}

export function accountPage(view: AccountView): string {
  return layout('Your account', `<h1>Your account</h1>
<p>Signed in as <strong>${e(view.user.username)}</strong>.</p>
${flashHtml(view.flash, view.apiExampleUrl)}
<nav aria-label="Sections"><ul class="sections">
<li><a href="#profile">Profile</a></li><li><a href="#password">Password</a></li><li><a href="#sessions">Sessions</a></li>
<li><a href="#tokens">API tokens</a></li><li><a href="#apps">Connected apps</a></li><li><a href="#identities">Linked identities</a></li>
</ul></nav>
${profileSection(view.user)}
${passwordSection(view.csrf, view.user.username, view.passwordPolicy, view.passwordMode)}
${sessionsSection(view.csrf, view.sessions, view.current)}
${apiTokensSection(view.csrf, view.apiTokens, view.scopeChoices, view.apiTokenMaxTtl)}
${connectedAppsSection(view.csrf, view.connectedApps)}
${linkedIdentitiesSection(view.csrf, view.linkedIdentities)}
<p><a href="/">Back to the start page</a></p>`, { wide: true });
}

/** 401: no usable session. `flash` may say why (the password change that ended it). */
export function signedOutPage(flash: Flash | undefined, signInPath: string): string {
  const message = flash ? `<p class="${flash.kind === 'error' ? 'alert' : 'notice'}" role="alert">${e(flash.message)}</p>\n` : '';
  return layout('Sign in to see your account', `<h1>Sign in to see your account</h1>
${message}<p>You are not signed in, or your session has ended.</p>
<a class="button" href="${e(signInPath)}">Sign in</a>`);
}

/** 403: a form post that failed the CSRF or origin check; nothing was changed. */
export function refusedPage(): string {
  return layout('Form refused', `<h1>Form refused</h1>
<p role="alert">This form was not sent from your account page, or it expired. Nothing was changed.</p>
<a class="button" href="/account">Back to your account</a>`);
}

/** A failure of the page itself (store outage, unexpected error). */
export function errorPage(title: string, message: string): string {
  return layout(title, `<h1>${e(title)}</h1>
<p role="alert">${e(message)}</p>`);
}
