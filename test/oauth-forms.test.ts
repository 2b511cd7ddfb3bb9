/** The sign-in forms other than login: consent and cancel need their CSRF token; every page the provider renders forbids framing. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startOAuthService, rp, authorizationUrl, signIn, Browser, formAction, formField, post, auditProbe, type OAuthFixture } from './oauth/helpers.ts';

let fx: OAuthFixture;
before(async () => { fx = await startOAuthService('sqlite'); });
after(async () => { await fx.close(); });

/** Signs alice in for the third-party client and returns the browser sitting on the consent page. */
async function atConsent(): Promise<{ browser: Browser; html: string; started: Awaited<ReturnType<typeof authorizationUrl>> }> {
  const partner = await rp(fx.issuer, 'partner', fx.thirdParty.secret);
  const browser = new Browser();
  // prompt=consent: the page every time, though the first test's grant is remembered.
  const started = await authorizationUrl(partner, { scope: 'openid email', prompt: 'consent' });
  await signIn(browser, fx.issuer, started.url).catch(() => undefined); // stops at the consent page
  const consent = await browser.follow(started.url.href, fx.issuer);
  const html = await consent.res.text();
  assert.match(html, /Allow access\?/);
  return { browser, html, started };
}

const framingForbidden = (res: Response) => {
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
};

test('fail-consent-csrf: a consent form without its token is refused and grants nothing', async () => {
  const { browser, html } = await atConsent();
  const since = await auditProbe(fx).head();
  const res = await post(browser, new URL(formAction(html, '/consent'), fx.issuer).href, { csrf: 'forged' });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('location'), null);
  framingForbidden(res);
  const granted = (await fx.svc.service.context.audit.list({ event: 'consent.granted' })).filter((e) => e.seq > since);
  assert.deepEqual(granted, []);
  // The genuine form still works afterwards: the forged post changed nothing.
  const ok = await post(browser, new URL(formAction(html, '/consent'), fx.issuer).href, { csrf: formField(html, 'csrf') });
  assert.equal(ok.status, 303);
});

test('fail-validation: a consent form without any CSRF field is a 422 "Invalid form" page and grants nothing', async () => {
  const { browser, html } = await atConsent();
  const res = await post(browser, new URL(formAction(html, '/consent'), fx.issuer).href, {});
  assert.equal(res.status, 422);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await res.text(), /Invalid form/);
  framingForbidden(res);
  // The genuine form still works afterwards.
  assert.equal((await post(browser, new URL(formAction(html, '/consent'), fx.issuer).href, { csrf: formField(html, 'csrf') })).status, 303);
});

test('fail-abort-csrf: a cancel form without its token is refused; no access_denied reaches the client', async () => {
  const { browser, html } = await atConsent();
  const res = await post(browser, new URL(formAction(html, '/abort'), fx.issuer).href, { csrf: 'forged' });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('location'), null);
  framingForbidden(res);
});

test('ok: the provider\'s own pages (logout without a session, errors) forbid framing', async () => {
  const logout = await fetch(`${fx.issuer}/oauth2/logout`, { redirect: 'manual' });
  assert.ok(logout.status < 500);
  framingForbidden(logout);
  const error = await fetch(`${fx.issuer}/oauth2/authorize?client_id=nobody&response_type=code`, { redirect: 'manual' });
  assert.equal(error.status, 400);
  framingForbidden(error);
});
