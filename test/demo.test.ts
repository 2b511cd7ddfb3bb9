/**
 * `npm start`: the demo process as a person runs it — a random password printed on first start,
 * GATEHOUSE_DEMO_PASSWORD overriding it, --data-dir and --config honoured, and a sign-in through
 * the real login form ending on the demo page with the user's roles and permissions.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/service.ts';
import { Browser, formAction, formField, post } from './oauth/helpers.ts';

const START = new URL('../examples/bookstore/start.ts', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

// One origin for both starts: the demo clients are registered once per data dir, for this issuer.
const ports = Promise.all([freePort(), freePort()]);

async function startDemo(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; origin: string; output: () => string; stop(): Promise<void> }> {
  const [port, tlsPort] = await ports;
  const origin = `http://127.0.0.1:${port}`;
  const config = join(dataDir, 'gatehouse.yaml');
  writeFileSync(config, `issuer: ${origin}\nlisten:\n  port: ${port}\n  tlsPort: ${tlsPort}\nresources:\n  - audience: ${origin}/api\n`);
  const child = spawn(process.execPath, [START, '--config', config, '--data-dir', dataDir], {
    env: { ...process.env, GATEHOUSE_DEMO_PASSWORD: '', GATEHOUSE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += String(chunk); });
  child.stderr!.on('data', (chunk) => { output += String(chunk); });
  const deadline = Date.now() + 30_000;
  while (!output.includes('stop          Ctrl-C')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child, origin, output: () => output,
    stop: () => new Promise((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); }),
  };
}

async function signIn(origin: string, username: string, password: string): Promise<{ status: number; html: string }> {
  const browser = new Browser();
  const page = await browser.follow(`${origin}/demo/signin`, origin);
  const html = await page.res.text();
  if (!html.includes('name="password"')) throw new Error(`no login form at ${page.url} (${page.res.status}): ${html.slice(0, 400)}`);
  const res = await post(browser, new URL(formAction(html, '/login'), origin).href, { csrf: formField(html, 'csrf'), username, password });
  if (res.status !== 303) return { status: res.status, html: await res.text() };
  const done = await browser.follow(new URL(res.headers.get('location')!, origin).href, origin);
  return { status: done.res.status, html: await done.res.text() };
}

test('ok: first start prints a random password that signs alice in; data stays in --data-dir', async () => {
  const demo = await startDemo({});
  try {
    const password = /password\s+(\S+)\s+\(random/.exec(demo.output())?.[1];
    assert.ok(password && password.length >= 16, `a random password is printed:\n${demo.output()}`);
    assert.match(demo.output(), new RegExp(`running at ${demo.origin}`));
    const home = await fetch(`${demo.origin}/`);
    assert.equal(home.status, 200);
    assert.match(home.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const signedIn = await signIn(demo.origin, 'alice', password);
    assert.equal(signedIn.status, 200);
    assert.match(signedIn.html, /Signed in as alice/);
    assert.match(signedIn.html, /customer → books:read, orders:create, orders:read:own/);
    assert.match(signedIn.html, /at\+jwt/);
    assert.equal((await signIn(demo.origin, 'alice', `${password}x`)).status, 401);
    assert.equal(statSync(join(dataDir, 'gatehouse.db')).isFile(), true);
    assert.equal(statSync(join(dataDir, 'demo.json')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'master.key')).mode & 0o777, 0o600);
  } finally {
    await demo.stop();
  }
});

test('ok: GATEHOUSE_DEMO_PASSWORD overrides the password, also on a data dir seeded before', async () => {
  const demo = await startDemo({ GATEHOUSE_DEMO_PASSWORD: 'Velvet-Harbor-Quill-2291' });
  try {
    assert.match(demo.output(), /password\s+Velvet-Harbor-Quill-2291\s+\(GATEHOUSE_DEMO_PASSWORD\)/);
    for (const user of ['bob', 'carol']) {
      const signedIn = await signIn(demo.origin, user, 'Velvet-Harbor-Quill-2291');
      assert.match(signedIn.html, new RegExp(`Signed in as ${user}`));
    }
  } finally {
    await demo.stop();
  }
});

test('fail-weak-demo-password: a guessable GATEHOUSE_DEMO_PASSWORD stops the start with one line', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [START, '--data-dir', mkdtempSync(join(tmpdir(), 'gatehouse-demo-weak-'))], {
    env: { ...process.env, GATEHOUSE_DEMO_PASSWORD: 'password1', GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`, GATEHOUSE_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += String(chunk); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.notEqual(code, 0);
  assert.match(stderr, /^gatehouse: .*password/m);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('ok: with only the port moved (--port, no issuer), the banner shows the real URL and /demo/signin signs in', async () => {
  const [port, tlsPort] = await Promise.all([freePort(), freePort()]);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-port-'));
  const config = join(dir, 'gatehouse.yaml');
  writeFileSync(config, `listen:\n  tlsPort: ${tlsPort}\n`);
  const child = spawn(process.execPath, [START, '--config', config, '--data-dir', dir, '--port', String(port)], {
    env: { ...process.env, GATEHOUSE_DEMO_PASSWORD: 'Velvet-Harbor-Quill-2291', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_ISSUER: '', GATEHOUSE_PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => { output += String(chunk); });
  child.stderr.on('data', (chunk) => { output += String(chunk); });
  try {
    const deadline = Date.now() + 30_000;
    while (!output.includes('stop          Ctrl-C')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const origin = `http://localhost:${port}`;
    assert.match(output, new RegExp(`running at ${origin}\\n`));
    assert.match(output, new RegExp(`sign-in demo  ${origin}/demo/signin`));
    assert.doesNotMatch(output, /8080/);
    const signedIn = await signIn(origin, 'alice', 'Velvet-Harbor-Quill-2291');
    assert.equal(signedIn.status, 200);
    assert.match(signedIn.html, /Signed in as alice/);
  } finally {
    await new Promise<void>((resolve) => { child.once('exit', () => resolve()); child.kill('SIGTERM'); });
    rmSync(dir, { recursive: true, force: true });
  }
});
