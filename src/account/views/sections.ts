/**
 * The sections of the account page, one function each. Every value is escaped here (`e`); forms
 * carry the CSRF field; tables have captions and headers; every button says what it does.
 */
import { escapeHtml as e } from '../../oauth/index.ts';
import type { AccountSession, AccountUser, ApiTokenSummary, ConnectedApp, LinkedIdentity } from '../types.ts';
import { ACCOUNT_ROUTES as R, FIRST_PASSWORD_WINDOW } from '../paths.ts';
import { buttonForm, codes, csrfField, table, when } from './format.ts';

/** Expiry choices of a new personal API token, seconds. */
export const TOKEN_EXPIRY_CHOICES: ReadonlyArray<[label: string, seconds: number]> = [
  ['7 days', 7 * 86400],
  ['30 days', 30 * 86400],
  ['90 days', 90 * 86400],
  ['1 year', 365 * 86400],
];

const notConfigured = (what: string) => `<p class="muted">${e(what)} are not configured on this server.</p>`;

export function profileSection(user: AccountUser): string {
  return `<section aria-labelledby="profile">
<h2 id="profile">Profile</h2>
<dl>
<dt>Username</dt><dd>${e(user.username)}</dd>
<dt>E-mail</dt><dd>${e(user.email)}</dd>
<dt>Roles</dt><dd>${user.roles.length ? user.roles.map(e).join(', ') : 'none'}</dd>
</dl>
</section>`;
}

/**
 * `change`: the usual form (current password + new twice). An account made through an external
 * provider has no password: `set` offers to set a first one without a current password — only
 * within FIRST_PASSWORD_WINDOW of signing in (a fresh proof that this is the person);
 * `set-after-sign-in` says how to get there.
 */
export type PasswordMode = 'change' | 'set' | 'set-after-sign-in';

export function passwordSection(csrf: string, username: string, policy: { minLength: number }, mode: PasswordMode = 'change'): string {
  if (mode === 'set-after-sign-in') {
    return `<section aria-labelledby="password">
<h2 id="password">Set a password</h2>
<p>You sign in through an external account and have no password here. A password can be set within ${FIRST_PASSWORD_WINDOW / 60} minutes of signing in: sign out, sign in again, then come back to this page.</p>
</section>`;
  }
  const first = mode === 'set';
  const current = first ? '' : `<label for="current-password">Current password</label>
<input id="current-password" name="current" type="password" autocomplete="current-password" required maxlength="1024">
`;
  return `<section aria-labelledby="password">
<h2 id="password">${first ? 'Set a password' : 'Change password'}</h2>
<p id="password-note">${first ? 'You sign in through an external account and have no password here; with one you can also sign in with your username. Setting it' : 'Changing your password'} signs you out everywhere — every other session and app you signed in to, and this session too: you then sign in again with the new password.</p>
<form method="post" action="${R.password}">
${csrfField(csrf)}
<input type="text" name="username" autocomplete="username" hidden value="${e(username)}">
${current}<label for="new-password">New password</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" required minlength="${policy.minLength}" maxlength="1024" aria-describedby="new-password-hint">
<p id="new-password-hint" class="hint">At least ${policy.minLength} characters; not a common or easily guessed password.</p>
<label for="confirm-password">New password again</label>
<input id="confirm-password" name="confirm" type="password" autocomplete="new-password" required maxlength="1024">
<button type="submit" aria-describedby="password-note">${first ? 'Set password' : 'Change password'}</button>
</form>
</section>`;
}

export function sessionsSection(csrf: string, sessions: readonly AccountSession[], current: AccountSession): string {
  const rows = sessions.map((s, i) => {
    const mine = s.id === current.id;
    const name = mine ? `Session ${i + 1} <strong class="badge">this session</strong>` : `Session ${i + 1}`;
    const action = mine ? 'You are using it' : buttonForm(R.endSession, csrf, 'End session', { session: s.id }, { secondary: true });
    const active = s.lastSeenAt === undefined ? '' : `<br><span class="hint">last active ${when(s.lastSeenAt)}</span>`;
    return [name, `${when(s.signedInAt)}${active}<br><span class="hint">until ${when(s.expiresAt)}</span>`, codes(s.clientIds), action];
  });
  return `<section aria-labelledby="sessions">
<h2 id="sessions">Active sessions</h2>
<p>Where you are signed in. Ending a session signs that browser out of Gatehouse and of the apps you used there within a second; apps you connected with lasting access are listed under Connected apps.</p>
${table('Your sign-in sessions', ['Session', 'Signed in', 'Apps', 'Action'], rows)}
<p id="end-all-note">Ending every session signs you out here as well.</p>
${buttonForm(R.endAllSessions, csrf, 'End every session', {}, { secondary: true, describedBy: 'end-all-note' })}
</section>`;
}

export interface NewToken {
  token: string;
  curl: string;
}

export function newTokenNotice(created: NewToken): string {
  return `<div class="new-token" role="alert">
<p><strong>Your new personal API token.</strong> Copy it now: it is shown only this once and cannot be retrieved later.</p>
<label for="new-token">Token</label>
<input id="new-token" type="text" readonly value="${e(created.token)}" autocomplete="off" spellcheck="false">
<p>Use it like this (select the text to copy it):</p>
<pre><code>${e(created.curl)}</code></pre>
</div>`;
}

/** The expiry choices up to `maxTtl` seconds (at least the shortest). */
export function expiryChoices(maxTtl: number | undefined): ReadonlyArray<[label: string, seconds: number]> {
  const fitting = TOKEN_EXPIRY_CHOICES.filter(([, seconds]) => maxTtl === undefined || seconds <= maxTtl);
  return fitting.length > 0 ? fitting : TOKEN_EXPIRY_CHOICES.slice(0, 1);
}

export function apiTokensSection(csrf: string, tokens: readonly ApiTokenSummary[] | undefined, scopeChoices: readonly string[], maxTtl?: number): string {
  const head = `<section aria-labelledby="tokens">
<h2 id="tokens">Personal API tokens</h2>`;
  if (tokens === undefined) return `${head}\n${notConfigured('Personal API tokens')}\n</section>`;
  const rows = tokens.map((t) => [
    e(t.name),
    codes(t.scopes),
    when(t.createdAt),
    when(t.expiresAt),
    t.lastUsedAt === undefined ? 'never' : `${when(t.lastUsedAt)}${t.lastUsedAddress ? ` from <code>${e(t.lastUsedAddress)}</code>` : ''}`,
    buttonForm(R.revokeToken, csrf, `Revoke ${t.name}`, { id: t.id }, { secondary: true }),
  ]);
  const list = tokens.length === 0 ? '<p>You have no personal API tokens.</p>' : table('Your personal API tokens', ['Name', 'Scopes', 'Created', 'Expires', 'Last used', 'Action'], rows);
  const boxes = scopeChoices.map((scope, i) => `<label class="check" for="scope-${i}"><input id="scope-${i}" type="checkbox" name="scopes" value="${e(scope)}"> <code>${e(scope)}</code></label>`).join('\n');
  const choices = expiryChoices(maxTtl);
  const expiry = choices.map(([label, seconds], i) => `<option value="${seconds}"${i === Math.min(1, choices.length - 1) ? ' selected' : ''}>${e(label)}</option>`).join('');
  const form = scopeChoices.length === 0
    ? '<p>Your roles hold no permissions a token could carry.</p>'
    : `<form method="post" action="${R.createToken}">
${csrfField(csrf)}
<h3>Create a token</h3>
<p>A token acts for you with the scopes you pick, and never beyond what your roles allow.</p>
<label for="token-name">Name</label>
<input id="token-name" name="name" type="text" required maxlength="100" placeholder="e.g. orders script">
<fieldset>
<legend>Scopes</legend>
${boxes}
</fieldset>
<label for="token-expiry">Expires in</label>
<select id="token-expiry" name="expiresIn">${expiry}</select>
<button type="submit">Create token</button>
</form>`;
  return `${head}\n${list}\n${form}\n</section>`;
}

export function connectedAppsSection(csrf: string, apps: readonly ConnectedApp[] | undefined): string {
  const head = `<section aria-labelledby="apps">
<h2 id="apps">Connected apps</h2>`;
  if (apps === undefined) return `${head}\n${notConfigured('Connected apps')}\n</section>`;
  const rows = apps.map((a) => [e(a.clientName), codes(a.scopes), when(a.grantedAt), buttonForm(R.disconnectApp, csrf, `Disconnect ${a.clientName}`, { client: a.clientId }, { secondary: true })]);
  const body = apps.length === 0 ? '<p>No apps are connected to your account.</p>' : `<p>Disconnecting an app revokes its access and every token it holds at once.</p>\n${table('Apps with access to your account', ['App', 'Access', 'Connected', 'Action'], rows)}`;
  return `${head}\n${body}\n</section>`;
}

export function linkedIdentitiesSection(csrf: string, identities: readonly LinkedIdentity[] | undefined): string {
  const head = `<section aria-labelledby="identities">
<h2 id="identities">Linked identities</h2>`;
  if (identities === undefined) return `${head}\n${notConfigured('External identity providers')}\n</section>`;
  const rows = identities.map((i) => [
    e(i.providerName),
    e(i.label ?? i.subject),
    when(i.linkedAt),
    buttonForm(R.unlinkIdentity, csrf, `Remove ${i.providerName}`, { provider: i.provider, subject: i.subject }, { secondary: true }),
  ]);
  const body = identities.length === 0 ? '<p>No external accounts are linked: you sign in with your password.</p>' : `<p>You can sign in with these accounts too. Removing one stops that.</p>\n${table('Accounts you can sign in with', ['Provider', 'Account', 'Linked', 'Action'], rows)}`;
  return `${head}\n${body}\n</section>`;
}
