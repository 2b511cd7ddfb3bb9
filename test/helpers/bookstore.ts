/**
 * The bookstore demo as a person runs it: `npm start` (examples/bookstore/start.ts) as its own
 * process, with the demo's own gatehouse.yaml moved to free ports, and a fresh data directory.
 * Users sign in the way a browser does: /login at the gateway → the Security Service's form →
 * back with the gateway's session cookie.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { freePort } from './service.ts';
import { Browser, formAction, formField, post } from '../oauth/helpers.ts';

const START = new URL('../../examples/bookstore/start.ts', import.meta.url).pathname;
const DEMO_CONFIG = new URL('../../examples/bookstore/gatehouse.yaml', import.meta.url).pathname;

export interface Bookstore {
  /** The gateway: the one URL. */
  origin: string;
  /** The Security Service's internal URL. */
  security: string;
  /** Book Club, the demo's third-party app (its own origin). */
  bookClub: string;
  password: string;
  dataDir: string;
  configPath: string;
  output(): string;
  /** Stops the process (SIGTERM) and waits for it to exit; resolves to its exit code. */
  stop(): Promise<number | null>;
  child: ChildProcess;
}

export interface StartBookstoreOptions {
  env?: NodeJS.ProcessEnv;
  /** Reuse a data directory (a restart); default a fresh one. */
  dataDir?: string;
  /** Reuse the ports of an earlier start (the demo's clients are registered for its origin). */
  ports?: BookstorePorts;
}

export type BookstorePorts = Record<'gateway' | 'security' | 'tls' | 'catalog' | 'orders' | 'storefront' | 'bookClub', number>;

/**
 * Seven free ports. For a demo that is stopped and started again on the same ports, pass
 * `stable`: they are then drawn from 20000–29999, below Linux's ephemeral range, so the free
 * ports other test files get from the kernel meanwhile can never be these.
 */
export async function bookstorePorts(options: { stable?: boolean } = {}): Promise<BookstorePorts> {
  const ports = options.stable ? await stablePorts(7) : await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const [gateway, security, tls, catalog, orders, storefront, bookClub] = ports;
  return { gateway: gateway!, security: security!, tls: tls!, catalog: catalog!, orders: orders!, storefront: storefront!, bookClub: bookClub! };
}

async function stablePorts(count: number): Promise<number[]> {
  const chosen: number[] = [];
  while (chosen.length < count) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    if (!chosen.includes(port) && await canListen(port)) chosen.push(port);
  }
  return chosen;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** examples/bookstore/gatehouse.yaml with its ports replaced; everything else as shipped. */
export function demoConfigOn(ports: BookstorePorts): string {
  const replace: Array<[string, number]> = [
    ['8080', ports.gateway], ['9100', ports.security], ['8443', ports.tls], ['9101', ports.catalog], ['9102', ports.orders], ['9103', ports.storefront],
  ];
  let text = readFileSync(DEMO_CONFIG, 'utf8');
  for (const [from, to] of replace) text = text.replaceAll(`:${from}`, `:${to}`).replaceAll(`port: ${from}`, `port: ${to}`).replaceAll(`tlsPort: ${from}`, `tlsPort: ${to}`);
  return text;
}

export async function startBookstore(options: StartBookstoreOptions = {}): Promise<Bookstore> {
  const ports = options.ports ?? await bookstorePorts();
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-bookstore-'));
  const configPath = join(dataDir, 'bookstore.yaml');
  writeFileSync(configPath, demoConfigOn(ports));
  const child = spawn(process.execPath, [START, '--config', configPath, '--data-dir', dataDir], {
    env: { ...process.env, GATEHOUSE_DEMO_PASSWORD: '', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_BOOK_CLUB_PORT: String(ports.bookClub), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => { output += String(chunk); });
  child.stderr!.on('data', (chunk) => { output += String(chunk); });
  const deadline = Date.now() + 60_000;
  while (!/stop\s+Ctrl-C/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`the bookstore did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const password = /password\s+(\S+)/.exec(output)?.[1];
  assert.ok(password, `the banner names the password:\n${output}`);
  return {
    origin: `http://localhost:${ports.gateway}`,
    security: `http://127.0.0.1:${ports.security}`,
    bookClub: `http://127.0.0.1:${ports.bookClub}`,
    password,
    dataDir,
    configPath,
    output: () => output,
    child,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve(child.exitCode);
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    }),
  };
}

export function removeDataDir(dataDir: string): void {
  rmSync(dataDir, { recursive: true, force: true });
}

/**
 * Signs `username` in through the gateway like a browser: GET /login → the Security Service's
 * sign-in form → POST → back to /login/callback, which sets the session cookie. Returns the
 * browser (its cookie jar holds the session) and where the gateway sent it at the end.
 */
export async function signInThroughGateway(origin: string, username: string, password: string, returnTo = '/'): Promise<{ browser: Browser; landedOn: string }> {
  const browser = new Browser();
  const page = await browser.follow(`${origin}/login?return_to=${encodeURIComponent(returnTo)}`, origin);
  assert.equal(page.res.status, 200, `the sign-in form at ${page.url}`);
  const html = await page.res.text();
  const res = await post(browser, new URL(formAction(html, '/login'), page.url).href, { csrf: formField(html, 'csrf'), username, password });
  assert.equal(res.status, 303, `sign-in as ${username} answered ${res.status}`);
  const done = await browser.follow(new URL(res.headers.get('location')!, page.url).href, origin);
  assert.equal(done.res.status, 200, `after sign-in the gateway lands on ${done.url} with ${done.res.status}`);
  await done.res.arrayBuffer();
  return { browser, landedOn: new URL(done.url).pathname };
}
