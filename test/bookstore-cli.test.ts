/**
 * The demo's terminal program end to end: `npm start` (the real demo process, free ports), the
 * CLI as its own process signing in by device code, alice confirming the code through the pages
 * at the gateway's /device, and `orders` listing alice's orders through the gateway.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { chromiumSkip, launchChromium } from './helpers/chromium.ts';
import { decodeJwt } from 'jose';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDataDir, signInThroughGateway, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import { Browser } from './oauth/helpers.ts';
import { approveDevice } from './oauth/device.ts';

const CLI = new URL('../examples/bookstore/cli/main.ts', import.meta.url).pathname;
// As in bookstore-browser.test.ts: skipped with the reason without Chromium, except on CI (where .ci/run installs it).
const noChromium = chromiumSkip;

let demo: Bookstore;
let scratch: string;
const placed: Record<'alice' | 'dave', string> = { alice: '', dave: '' };

interface Run {
  /** Resolves when the output matches. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function cli(args: string[], tokens = join(scratch, 'config', 'tokens.json')): Run {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, BOOKSTORE_URL: demo.origin, BOOKSTORE_CLI_TOKENS: tokens }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += String(chunk); });
  child.stderr.on('data', (chunk) => { stderr += String(chunk); });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return {
    done,
    async waitFor(pattern) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const match = pattern.exec(stdout);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) {
          child.kill();
          throw new Error(`the CLI never printed ${pattern}:\n${stdout}\n${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

before(async () => {
  demo = await startBookstore();
  scratch = mkdtempSync(join(tmpdir(), 'bookstore-cli-'));
  for (const user of ['alice', 'dave'] as const) {
    const { browser } = await signInThroughGateway(demo.origin, user, demo.password);
    const res = await browser.fetch(`${demo.origin}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', origin: demo.origin }, body: JSON.stringify({ items: [{ bookId: '2', quantity: 1 }] }) });
    assert.equal(res.status, 201);
    placed[user] = ((await res.json()) as { id: string }).id;
  }
});

after(async () => {
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('ok: login by device code (alice confirms at /device), then orders lists alice\'s orders only', async () => {
  const tokens = join(scratch, 'config', 'tokens.json');
  const login = cli(['login'], tokens);
  const [, uri, userCode] = await login.waitFor(/open\s+(\S+)\s+and enter the code (\S+)/);
  assert.equal(uri, `${demo.origin}/device`);
  const done = await approveDevice(new Browser(), demo.origin, userCode!, { username: 'alice', password: demo.password });
  assert.match(done.html, /Device connected/);
  assert.match(done.html, /Bookstore CLI/);
  const result = await login.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Signed in as alice/);
  assert.equal(statSync(tokens).mode & 0o777, 0o600, 'the token file is readable only by its owner');
  // A third-party client: its token may do only what orders:read covers of alice's permissions.
  const claims = decodeJwt((JSON.parse(readFileSync(tokens, 'utf8')) as { accessToken: string }).accessToken);
  assert.equal(claims.scope, 'orders:read');
  assert.equal(claims.scope_bound, true);
  assert.equal(claims.client_id, 'bookstore-cli');

  const listed = await cli(['orders'], tokens).done;
  assert.equal(listed.code, 0, listed.stderr);
  assert.match(listed.stdout, /Orders of alice/);
  assert.ok(listed.stdout.includes(placed.alice), 'alice\'s order is listed');
  assert.ok(!listed.stdout.includes(placed.dave), 'dave\'s order is not');

  // An access token about to expire is refreshed (the refresh token rotates) and saved again.
  const before = JSON.parse(readFileSync(tokens, 'utf8')) as { accessToken: string; refreshToken: string; expiresAt: number };
  writeFileSync(tokens, JSON.stringify({ ...before, expiresAt: 0 }), { mode: 0o600 });
  const refreshed = await cli(['orders'], tokens).done;
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.ok(refreshed.stdout.includes(placed.alice));
  const after = JSON.parse(readFileSync(tokens, 'utf8')) as { accessToken: string; refreshToken: string; expiresAt: number };
  assert.notEqual(after.accessToken, before.accessToken);
  assert.notEqual(after.refreshToken, before.refreshToken);
  assert.ok(after.expiresAt > Date.now() / 1000);
  assert.equal(statSync(tokens).mode & 0o777, 0o600);

  const out = await cli(['logout'], tokens).done;
  assert.equal(out.code, 0, out.stderr);
  assert.equal(existsSync(tokens), false);
  const reuse = await fetch(`${demo.origin}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: after.refreshToken, client_id: 'bookstore-cli' }).toString() });
  assert.equal(((await reuse.json()) as { error?: string }).error, 'invalid_grant', 'logout revoked the refresh token');
  const signedOut = await cli(['orders'], tokens).done;
  assert.equal(signedOut.code, 1);
  assert.match(signedOut.stderr, /not signed in/);
});

test('fail-denied: the person denies the code → login fails with a clear message and saves nothing', async () => {
  const tokens = join(scratch, 'denied', 'tokens.json');
  const login = cli(['login'], tokens);
  const [, , userCode] = await login.waitFor(/open\s+(\S+)\s+and enter the code (\S+)/);
  const denied = await approveDevice(new Browser(), demo.origin, userCode!, { denyAtConfirm: true });
  assert.match(denied.html, /Request denied/);
  const result = await login.done;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /denied/);
  assert.equal(existsSync(tokens), false);
});

// dave, not alice: alice's consent to the CLI (the first test) is remembered, and this one clicks Allow.
test('ok: in Chromium, the person opens the link the CLI prints, continues, signs in and allows; the CLI lists the orders', { skip: noChromium }, async () => {
  const tokens = join(scratch, 'chromium', 'tokens.json');
  const login = cli(['login'], tokens);
  const [, complete] = await login.waitFor(/\(or open (\S+)\)/);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
    const errors: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') errors.push(message.text()); });
    await page.goto(complete!);
    await page.getByLabel('Code').waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Is this your device?' }).waitFor();
    await page.getByText('Read your orders').waitFor(); // the scope's words from gatehouse.yaml, as on the consent page
    const width = await page.evaluate('document.documentElement.scrollWidth') as number;
    assert.ok(width <= 375, `the confirm page is ${width} px wide on a 375 px screen`);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Username').fill('dave');
    await page.getByLabel('Password').fill(demo.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();
    assert.deepEqual(errors, [], 'no CSP violation or other console error on the way');
  } finally {
    await browser.close();
  }
  const result = await login.done;
  assert.equal(result.code, 0, result.stderr);
  const listed = await cli(['orders'], tokens).done;
  assert.ok(listed.stdout.includes(placed.dave), listed.stdout + listed.stderr);
  assert.ok(!listed.stdout.includes(placed.alice), 'only dave\'s orders');
});
