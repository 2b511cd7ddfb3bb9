/**
 * A CA that is down near (and past) a workload's expiry, through the SDK against a real CA behind
 * a switchable proxy: retries never land after expiry, a trust reload that reaches the CA again
 * renews at once, an expired workload enrolls again from a fresh join token (never re-presenting
 * a used one), and with pki.renewalGrace an expired certificate is simply renewed. Short
 * lifetimes (5–20 s); tests poll for events with generous deadlines (a loaded 2-core box).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService, type TestService } from './helpers/service.ts';
import { switchableProxy, type SwitchableProxy } from './helpers/proxy.ts';
import { parseJoinToken } from '../src/x509/index.ts';
import { workloadIdentity, type WorkloadIdentity, type WorkloadIdentityOptions, type IdentityEvent } from '../src/sdk/index.ts';

const TD = 'td.test';
let svc: TestService;
let graceful: TestService;
let dir: string;

before(async () => {
  [svc, graceful] = await Promise.all([
    startService({ config: { pki: { trustDomain: TD } } }),
    startService({ config: { pki: { trustDomain: TD, renewalGrace: '1m' } } }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'gh-recovery-'));
});
after(async () => {
  await Promise.all([svc.close(), graceful.close()]);
  rmSync(dir, { recursive: true, force: true });
});

const mint = async (on: TestService = svc) => (await on.service.context.pki.mintJoinToken({ service: 'orders', createdBy: 'test' })).token;

/** Resolves when `predicate` holds (checked every 50 ms), rejects after `ms`. */
async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Run {
  identity: WorkloadIdentity;
  proxy: SwitchableProxy;
  failures: Array<{ at: number; retryIn: number; notAfter: number }>;
  events: IdentityEvent[];
  logs: Array<{ level: string; msg: string; at: number }>;
  close(): Promise<void>;
}

/** An `orders` identity talking to `on`'s CA through a proxy (up during enrollment). */
async function run(options: Partial<WorkloadIdentityOptions>, on: TestService = svc): Promise<Run> {
  const proxy = await switchableProxy(new URL(on.service.tlsUrl!));
  const logs: Run['logs'] = [];
  const log = (level: string) => (_: object, msg: string) => void logs.push({ level, msg, at: Date.now() });
  const logger = { info: log('info'), warn: log('warn'), error: log('error') };
  const identity = await workloadIdentity({ caUrl: proxy.url, service: 'orders', logger, refreshInterval: 300, ...options } as WorkloadIdentityOptions);
  const result: Run = { identity, proxy, failures: [], events: [], logs, async close() { await identity.close(); proxy.close(); } };
  identity.on('renewal_failed', (event) => result.failures.push({ at: Date.now(), retryIn: (event as { retryIn: number }).retryIn, notAfter: identity.notAfter.getTime() }));
  identity.on('changed', (event) => result.events.push(event));
  return result;
}

test('ok: CA down near expiry — every retry is scheduled before the certificate expires (capped by the time left), and it renews in time', async () => {
  // An 8 s certificate renewing at 2/3 (≈ 5.3 s) with retries starting at 4 s: uncapped, the first
  // retry (2–4 s later) would land after expiry. The trust reload is slow so only retries renew.
  const r = await run({ joinToken: await mint(), ttl: 8, refreshInterval: 60_000, retry: { initialDelay: 4000, maxDelay: 60_000 } });
  const first = r.identity.serial;
  try {
    r.proxy.up = false;
    await until(() => r.failures.length >= 2, 8000, 'two failed attempts');
    r.proxy.up = true;
    await until(() => r.identity.serial !== first, 8000, 'the renewal');
    for (const f of r.failures) assert.ok(f.at + f.retryIn < f.notAfter, `a retry ${f.retryIn} ms after ${f.notAfter - f.at} ms left lands after expiry`);
    assert.ok(r.failures.length >= 2);
    assert.equal(r.events.at(-1)!.type, 'renewed');
  } finally {
    await r.close();
  }
});

test('ok: a trust reload that reaches the CA again renews at once, not at the next (distant) retry', async () => {
  // Renewal due at 15 % of 20 s; retries from 20 s, capped to [¼, ½] of the time left: ≥ 4 s away.
  const r = await run({ joinToken: await mint(), ttl: 20, renewAt: 0.15, retry: { initialDelay: 20_000, maxDelay: 60_000 } });
  const first = r.identity.serial;
  try {
    r.proxy.up = false;
    await until(() => r.failures.length >= 1, 8000, 'a failed attempt');
    const back = Date.now();
    assert.ok(r.failures[0]!.retryIn >= 3500, `next retry in ${r.failures[0]!.retryIn} ms`);
    r.proxy.up = true;
    await until(() => r.identity.serial !== first, 10_000, 'the renewal');
    const took = Date.now() - back;
    assert.ok(took < r.failures[0]!.retryIn - 500, `renewed ${took} ms after the CA came back, the retry was ${r.failures[0]!.retryIn} ms away`);
  } finally {
    await r.close();
  }
});

test('ok: expired while the CA was down → waits for a fresh token in joinTokenFile (the used one is not re-presented), then enrolls again', async () => {
  const file = join(dir, 'orders.token');
  const firstToken = await mint();
  writeFileSync(file, `${firstToken}\n`);
  const r = await run({ joinTokenFile: file, ttl: 5, retry: { initialDelay: 200, maxDelay: 1000 } });
  const first = r.identity.serial;
  const reenrolled: IdentityEvent[] = [];
  r.identity.on('reenrolled', (event) => reenrolled.push(event));
  const refusals = async () => (await svc.service.context.audit.list({ event: 'enrollment.refused', latest: true, limit: 50 })).filter((e) => e.actor === `join-token:${parseJoinToken(firstToken)!.id}`).length;
  try {
    r.proxy.up = false;
    await until(() => Date.now() > r.identity.notAfter.getTime() + 200, 10_000, 'the expiry');
    r.proxy.up = true;
    const waiting = () => r.logs.filter((l) => l.msg.includes(`waiting for a fresh join token in joinTokenFile ${file}`));
    await until(() => waiting().length === 1, 8000, 'the "waiting for a fresh join token" log');
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a few reloads and retries meanwhile
    assert.equal(waiting().length, 1, 'logged once');
    assert.equal(await refusals(), 0, 'the used token was not presented again');
    assert.equal(r.identity.serial, first);

    const fresh = await mint();
    writeFileSync(file, fresh);
    await until(() => reenrolled.length === 1, 8000, 'the re-enrollment');
    assert.notEqual(r.identity.serial, first);
    assert.ok(r.identity.expiresIn() > 0);
    assert.equal(r.events.at(-1)!.type, 'reenrolled');
    const row = (await svc.service.context.pki.list({ service: 'orders' })).find((c) => c.serial === r.identity.serial)!;
    assert.equal(row.requested_by, `join-token:${parseJoinToken(fresh)!.id}`);
    assert.equal(r.logs.filter((l) => l.msg.includes('re-enrolled with a fresh join token')).length, 1);
  } finally {
    await r.close();
  }
});

test('ok: without joinTokenFile/joinTokenEnv an expired workload says once how to recover, instead of "keeping the current certificate"', async () => {
  const r = await run({ joinToken: await mint(), ttl: 5, retry: { initialDelay: 200, maxDelay: 500 } });
  try {
    r.proxy.up = false;
    await until(() => Date.now() > r.identity.notAfter.getTime() + 200, 10_000, 'the expiry');
    r.proxy.up = true;
    await until(() => r.logs.some((l) => l.msg.includes('restart with a fresh join token')), 8000, 'the recovery hint');
    const expiredAt = r.identity.notAfter.getTime();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(r.logs.filter((l) => l.msg.includes('restart with a fresh join token')).length, 1);
    assert.ok(r.failures.filter((f) => f.at > expiredAt).length >= 2, 'still retrying');
    assert.deepEqual(r.logs.filter((l) => l.at > expiredAt && l.msg.includes('keeping the current certificate')), [], 'an expired certificate is not "kept"');
  } finally {
    await r.close();
  }
});

test('ok: with pki.renewalGrace an expired workload is renewed (same identity, no new token needed)', async () => {
  const r = await run({ joinToken: await mint(graceful), ttl: 5, retry: { initialDelay: 200, maxDelay: 1000 } }, graceful);
  const first = r.identity.serial;
  try {
    r.proxy.up = false;
    await until(() => Date.now() > r.identity.notAfter.getTime() + 200, 10_000, 'the expiry');
    r.proxy.up = true;
    await until(() => r.identity.serial !== first, 8000, 'the renewal');
    assert.equal(r.events.at(-1)!.type, 'renewed');
    const renewed = (await graceful.service.context.audit.list({ event: 'cert.renewed', latest: true, limit: 5 })).find((e) => e.actor === `renewal:${first}`)!;
    assert.ok((renewed.data as { expiredFor: number }).expiredFor >= 1);
  } finally {
    await r.close();
  }
});
