/**
 * The person's side of the device flow, driven through the real pages with a cookie-keeping
 * fetch: open /device, type the user code, confirm (or deny), sign in, consent (or deny).
 */
import assert from 'node:assert/strict';
import { Browser, PASSWORD, formAction, formField, post } from './helpers.ts';

export interface DevicePage {
  status: number;
  html: string;
  headers: Headers;
}

async function page(res: Response): Promise<DevicePage> {
  return { status: res.status, html: await res.text(), headers: res.headers };
}

/** GET /device, then POST the code with the page's CSRF token: the confirm page, or the input page again with an error. */
export async function enterUserCode(browser: Browser, origin: string, userCode: string, headers: Record<string, string> = {}): Promise<DevicePage> {
  const input = await page(await browser.fetch(`${origin}/device`, { headers }));
  assert.equal(input.status, 200, `GET /device answered ${input.status}`);
  const res = await browser.fetch(new URL(formAction(input.html, '/device'), origin).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ xsrf: formField(input.html, 'xsrf'), user_code: userCode }).toString(),
  });
  return page(res);
}

export interface ApproveOptions {
  username?: string;
  password?: string;
  /** Deny on the confirm page instead of continuing. */
  denyAtConfirm?: boolean;
  /** Deny on the consent page (a third-party app) instead of allowing. */
  denyAtConsent?: boolean;
}

/**
 * The whole person's side: enter the code, confirm, sign in (unless the browser has a session),
 * consent when asked. Returns the last page (success, or denied).
 */
export async function approveDevice(browser: Browser, origin: string, userCode: string, options: ApproveOptions = {}): Promise<DevicePage> {
  const confirm = await enterUserCode(browser, origin, userCode);
  assert.equal(confirm.status, 200, `the code was refused: ${confirm.html}`);
  assert.match(confirm.html, /Is this your device\?/);
  const fields = { xsrf: formField(confirm.html, 'xsrf'), user_code: formField(confirm.html, 'user_code') };
  const action = new URL(formAction(confirm.html, '/device'), origin).href;
  if (options.denyAtConfirm) return page(await post(browser, action, { ...fields, abort: 'yes' }));
  let step = await browser.follow(action, origin, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ ...fields, confirm: 'yes' }).toString() });
  let current = await page(step.res);
  if (current.html.includes('name="password"')) {
    const res = await post(browser, new URL(formAction(current.html, '/login'), origin).href, { csrf: formField(current.html, 'csrf'), username: options.username ?? 'alice', password: options.password ?? PASSWORD });
    assert.equal(res.status, 303, `login failed with ${res.status}`);
    step = await browser.follow(new URL(res.headers.get('location')!, origin).href, origin);
    current = await page(step.res);
  }
  if (options.denyAtConsent) assert.match(current.html, /Allow access\?/, 'the consent page is shown');
  if (current.html.includes('Allow access?')) {
    const target = options.denyAtConsent ? '/abort' : '/consent';
    const res = await post(browser, new URL(formAction(current.html, target), origin).href, { csrf: formField(current.html, 'csrf') });
    assert.equal(res.status, 303);
    step = await browser.follow(new URL(res.headers.get('location')!, origin).href, origin);
    current = await page(step.res);
  }
  return current;
}
