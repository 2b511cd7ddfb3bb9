/**
 * The account page rendered from in-memory data shaped like the other components' answers (the
 * shared contract for API tokens, connected apps and linked identities): escaping, accessible
 * tables and forms, the one-time token notice, "not configured" — and, in Chromium, that the fully
 * populated page fits a 375 px screen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { chromiumSkip, launchChromium } from '../../test/helpers/chromium.ts';
import { accountPage, type AccountView } from './views/page.ts';
import { createScopeChoices } from './scope-choices.ts';

const HOSTILE = '<img src=x onerror=alert(1)>"\'&';
const DAY = 86400;
const T = 1_780_000_000;

function view(over: Partial<AccountView> = {}): AccountView {
  const sessions = [
    { id: 'sess-a', signedInAt: T - DAY, expiresAt: T + DAY, lastSeenAt: T - 120, sids: ['sid-a'], clientIds: ['bookstore-web'] },
    { id: 'sess-b', signedInAt: T - 3600, expiresAt: T + DAY, lastSeenAt: undefined, sids: ['sid-b'], clientIds: ['bookstore-web', 'book-club'] },
  ];
  return {
    user: { id: 'u1', username: 'alice', email: 'alice@example.com', status: 'active', roles: ['customer'] },
    csrf: 'csrf-token-value',
    flash: undefined,
    apiExampleUrl: 'http://localhost:8080/api/orders',
    passwordPolicy: { minLength: 8 },
    sessions,
    current: sessions[0]!,
    apiTokens: [
      { id: 'tok1', name: `orders script ${HOSTILE}`, scopes: ['orders:read'], createdAt: T - 2 * DAY, expiresAt: T + 28 * DAY, lastUsedAt: T - 60, lastUsedAddress: '203.0.113.7' },
      { id: 'tok2', name: 'backup', scopes: ['books:read', 'orders:read'], createdAt: T - DAY, expiresAt: T + 6 * DAY },
    ],
    scopeChoices: ['books:read', 'orders:create', 'orders:read'],
    connectedApps: [{ clientId: 'book-club', clientName: `Book Club ${HOSTILE}`, scopes: ['orders:read'], grantedAt: T - DAY }],
    linkedIdentities: [{ provider: 'upstream', providerName: 'Upstream ID', subject: 'ext-42', label: `alice@upstream ${HOSTILE}`, linkedAt: T - 5 * DAY }],
    ...over,
  };
}

test('ok: every value is escaped: names from tokens, apps and identities never become markup', () => {
  const html = accountPage(view({ flash: { kind: 'error', message: `bad ${HOSTILE}`, until: T } }));
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /orders script &lt;img src=x onerror=alert\(1\)&gt;&quot;&#39;&amp;/);
  assert.match(html, /Book Club &lt;img/);
  assert.match(html, /alice@upstream &lt;img/);
  assert.match(html, /<p class="alert" role="alert">bad &lt;img/);
});

test('ok: tables have captions and headers, and each row has a button that says what it does', () => {
  const html = accountPage(view());
  for (const caption of ['Your sign-in sessions', 'Your personal API tokens', 'Apps with access to your account', 'Accounts you can sign in with']) {
    assert.match(html, new RegExp(`<caption>${caption}</caption>`));
  }
  assert.match(html, /<th scope="col" role="columnheader">Last used<\/th>/);
  assert.match(html, />Revoke backup<\/button>/);
  assert.match(html, />Disconnect Book Club &lt;img[^<]*<\/button>/);
  assert.match(html, />Remove Upstream ID<\/button>/);
  assert.match(html, /name="client" value="book-club"/);
  assert.match(html, /name="provider" value="upstream"><input type="hidden" name="subject" value="ext-42"/);
  // Only the other session can be ended from its row; this one is marked.
  assert.equal([...html.matchAll(/>End session<\/button>/g)].length, 1);
  assert.match(html, /name="session" value="sess-b"/);
  assert.match(html, /class="badge">this session/);
  assert.equal([...html.matchAll(/last active <time/g)].length, 1, 'last activity where known, nothing where not');
  // Last use: time and address, or never.
  assert.match(html, /from <code>203\.0\.113\.7<\/code>/);
  assert.match(html, /data-label="Last used">never<\/td>/);
});

test('ok: every form carries the CSRF token and posts to /account/…', () => {
  const html = accountPage(view());
  const forms = [...html.matchAll(/<form method="post" action="([^"]+)"[^>]*>\s*(<input type="hidden" name="csrf" value="([^"]*)">)?/g)];
  assert.ok(forms.length >= 7);
  for (const form of forms) {
    assert.match(form[1]!, /^\/account\//);
    assert.equal(form[3], 'csrf-token-value', `form ${form[1]} carries the CSRF field first`);
  }
});

test('ok: the token form offers the scope choices as labelled checkboxes and the expiry choices', () => {
  const html = accountPage(view());
  assert.match(html, /<legend>Scopes<\/legend>/);
  for (const scope of ['books:read', 'orders:create', 'orders:read']) assert.match(html, new RegExp(`type="checkbox" name="scopes" value="${scope}"`));
  assert.match(html, /<option value="2592000" selected>30 days<\/option>/);
  assert.match(html, /<label for="token-name">Name<\/label>/);
});

test('ok: a new token is shown once with a copy hint and a curl example through the gateway', () => {
  const token = 'gth_abcdefghijklmnopqrstuvwxyz0123456789ABCDEF_0a1b2c3d';
  const html = accountPage(view({ flash: { kind: 'ok', message: 'The token “ci” was created.', token, until: T } }));
  assert.match(html, /shown only this once/);
  assert.match(html, new RegExp(`readonly value="${token}"`));
  assert.match(html, new RegExp(`curl -H &quot;Authorization: Bearer ${token}&quot; http://localhost:8080/api/orders`));
  assert.doesNotMatch(accountPage(view()), /gth_/);
});

test('ok: absent components say "not configured"; empty lists say so in words', () => {
  const absent = accountPage(view({ apiTokens: undefined, connectedApps: undefined, linkedIdentities: undefined }));
  assert.match(absent, /Personal API tokens are not configured on this server/);
  assert.match(absent, /Connected apps are not configured on this server/);
  assert.match(absent, /External identity providers are not configured on this server/);
  assert.doesNotMatch(absent, /action="\/account\/tokens"/);
  const empty = accountPage(view({ apiTokens: [], connectedApps: [], linkedIdentities: [], scopeChoices: [] }));
  assert.match(empty, /You have no personal API tokens/);
  assert.match(empty, /No apps are connected/);
  assert.match(empty, /No external accounts are linked/);
  assert.match(empty, /hold no permissions a token could carry/);
});

test('ok: scope choices: resource scopes and own permissions that cover something the user holds', () => {
  const roles = { customer: ['books:read', 'orders:create', 'orders:read:own'], staff: ['books:read', 'catalog:write', 'orders:read', 'orders:refund'], admin: ['*'] };
  const choices = createScopeChoices({ resourceScopes: ['books:read', 'orders:read', 'orders:create', 'catalog:write', 'orders:refund', 'openid'], roles });
  assert.deepEqual(choices({ roles: ['customer'] }), ['books:read', 'orders:create', 'orders:read', 'orders:read:own']);
  assert.deepEqual(createScopeChoices({ resourceScopes: [], roles })({ roles: ['customer'] }), ['books:read', 'orders:create', 'orders:read', 'orders:read:own'], 'orders:read offered for orders:read:own');
  assert.deepEqual(choices({ roles: ['staff'] }), ['books:read', 'catalog:write', 'orders:read', 'orders:refund']);
  assert.deepEqual(choices({ roles: [] }), []);
  assert.ok(!choices({ roles: ['admin'] }).includes('openid'));
});

const skip = chromiumSkip;

test('ok: the fully populated page (new token, long names) fits a 375 px screen', { skip }, async () => {
  const css = readFileSync(new URL('../oauth/views/gatehouse.css', import.meta.url), 'utf8');
  const html = accountPage(view({
    flash: { kind: 'ok', message: 'The token was created.', token: `gth_${'x'.repeat(40)}_0a1b2c3d`, until: T },
    apiTokens: [{ id: 't', name: 'a-very-long-token-name-without-any-spaces-in-it-at-all', scopes: ['orders:read', 'books:read', 'orders:create'], createdAt: T, expiresAt: T + DAY, lastUsedAt: T, lastUsedAddress: '2001:db8:1234:5678:9abc:def0:1234:5678' }],
  }));
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await page.route('http://account.test/**', (route) => {
      const css$ = route.request().url().endsWith('.css');
      return route.fulfill({ contentType: css$ ? 'text/css' : 'text/html', body: css$ ? css : html });
    });
    await page.goto('http://account.test/account');
    assert.equal(await page.getByRole('table', { name: 'Your personal API tokens' }).count(), 1);
    const width = await page.evaluate('document.documentElement.scrollWidth') as number;
    assert.ok(width <= 375, `the account page is ${width} px wide at 375 px`);
  } finally {
    await browser.close();
  }
});

test('ok: a first password may be set only within FIRST_PASSWORD_WINDOW of signing in; later the section says how', async () => {
  const { maySetFirstPassword, FIRST_PASSWORD_WINDOW } = await import('./paths.ts');
  const now = 1_800_000_000;
  assert.equal(maySetFirstPassword(now - 60, now), true);
  assert.equal(maySetFirstPassword(now - FIRST_PASSWORD_WINDOW - 1, now), false);
  assert.equal(maySetFirstPassword(undefined, now), false, 'an unknown sign-in time is not recent');
  const { passwordSection } = await import('./views/sections.ts');
  const later = passwordSection('csrf', 'uma', { minLength: 8 }, 'set-after-sign-in');
  assert.doesNotMatch(later, /<form/);
  assert.match(later, /sign out, sign in again/);
});
