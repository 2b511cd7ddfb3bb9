/**
 * client_credentials under a login flood, as in issue 7: 200 parallel wrong-password logins for
 * random names through the real sign-in form. The same run measures the token endpoint
 * undisturbed, then while such floods last (5 bursts back to back, the token rate taken over the
 * time they last): all from one address (what throttling absorbs: the client's budget is charged
 * before hashing, then the refusal limiter drops it before any lookup), then each attempt from its
 * own address (what only the argon2id concurrency limit bounds: passwords.maxConcurrentHashes
 * below libuv's pool, so signing always finds a thread). Target: client_credentials keeps ≥ 50 %
 * of its undisturbed rate.
 *
 * Service pinned to CPU_SUT as in the token benchmark; the token load and the floods share the
 * other core. The service trusts 127.0.0.1 as a proxy, so the floods' X-Forwarded-For names
 * their addresses.
 *
 *   npm run bench -- flood        (BENCH_SECONDS=8 by default: the undisturbed measurement)
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import * as oidc from 'openid-client';
import { startPinnedService, cli, runLoad, table, fmt, pinSelf, CPU_SUT, DURATION_MS, type BenchService, type LoadResult } from './lib.ts';
import { Browser, formAction, formField, CALLBACK } from '../test/oauth/helpers.ts';

const FLOOD = 200;
/** Bursts per measurement, back to back. */
const BURSTS = 5;

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function metric(svc: BenchService, name: string): Promise<number> {
  const line = (await (await fetch(`${svc.url}/metrics`)).text()).split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}

interface Burst { seconds: number; answers: Record<string, number>; hashes: number; refused: number }

/** One wrong password for a random name from `address`: its status, a 429 told by which page answered it. */
async function post(form: Form, address: string): Promise<string> {
  try {
    const res = await form.browser.fetch(form.action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
      body: new URLSearchParams({ csrf: form.csrf, username: `flood-${randomBytes(6).toString('hex')}`, password: 'Wrong-Password-123' }).toString(),
    });
    const page = await res.text();
    // The login throttle's sign-in page (the whole post ran) or the refusal limiter's page (answered before routing went further).
    if (res.status === 429) return page.includes('Too many failed sign-in attempts') ? '429 (throttle)' : '429 (refusal limit)';
    return String(res.status);
  } catch {
    return 'error';
  }
}

const tally = (answers: Record<string, number>, status: string) => { answers[status] = (answers[status] ?? 0) + 1; };
const listAnswers = (answers: Record<string, number>) => Object.entries(answers).map(([status, n]) => `${fmt(n)}× ${status}`).join(', ');

/**
 * One burst: every form posts one wrong password for a random name at once, `address(i)` its
 * X-Forwarded-For; resolves when all are answered, with what the service did meanwhile.
 */
async function burst(svc: BenchService, forms: Form[], address: (i: number) => string): Promise<Burst> {
  const [hashes, refused] = await Promise.all([metric(svc, 'gatehouse_password_hashes_total'), metric(svc, 'gatehouse_password_hashes_refused_total')]);
  const answers: Record<string, number> = {};
  const start = performance.now();
  await Promise.all(forms.map(async (form, i) => tally(answers, await post(form, address(i)))));
  const seconds = (performance.now() - start) / 1000;
  return {
    seconds,
    answers,
    hashes: (await metric(svc, 'gatehouse_password_hashes_total')) - hashes,
    refused: (await metric(svc, 'gatehouse_password_hashes_refused_total')) - refused,
  };
}

/**
 * Service CPU per sign-in post, by how it is answered, with no token load (CPU from /proc, 10 ms
 * ticks), summed over `addresses` fresh addresses. From each: the first throttle.ipFreeAttempts + 1
 * (21) one at a time, each hashing; then, in parallel runs of 50, as many as http.refusalLimit
 * (300) leaves, which the throttle refuses after the whole post (interaction, form, CSRF token,
 * client, counters, audit row, page) — but for one that may find the 1 s delay run out (whole
 * seconds: anywhere in its 2nd second) and hash, taken out at the hashed cost; then 1,000 in runs
 * of 200, which the refusal limiter answers before routing goes on.
 */
async function postCosts(svc: BenchService, forms: Form[], addresses: string[]) {
  type Phase = { posts: number; answers: Record<string, number>; cpuMs: number };
  const totals: Phase[] = [0, 1, 2].map(() => ({ posts: 0, answers: {}, cpuMs: 0 }));
  const phase = async (into: Phase, address: string, posts: number, parallel: number) => {
    const cpu = svc.cpuSeconds();
    for (let sent = 0; sent < posts; sent += parallel) {
      await Promise.all(forms.slice(0, Math.min(parallel, posts - sent)).map(async (form) => tally(into.answers, await post(form, address))));
    }
    into.cpuMs += (svc.cpuSeconds() - cpu) * 1000;
    into.posts += posts;
  };
  const [hashed, throttled, limited] = totals as [Phase, Phase, Phase];
  for (const address of addresses) {
    await phase(hashed, address, 21, 1);
    await phase(throttled, address, 300 - 21, 50);
    await phase(limited, address, 1000, 200);
  }
  const hashCost = hashed.cpuMs / hashed.posts;
  const hashedAgain = throttled.answers['401'] ?? 0;
  const row = (name: string, p: Phase, perPost: number) => [name, fmt(p.posts), listAnswers(p.answers), fmt(perPost, 2)];
  return [
    row('the first 21 of each, one at a time (each hashes)', hashed, hashCost),
    row('refused by the throttle (runs of 50)', throttled, (throttled.cpuMs - hashedAgain * hashCost) / (throttled.posts - hashedAgain)),
    row('refused by the refusal limiter (runs of 200)', limited, limited.cpuMs / limited.posts),
  ];
}

/**
 * client_credentials measured while `BURSTS` bursts run back to back (each from fresh addresses):
 * the token rate over the time the floods lasted, and what the floods got.
 */
async function underBursts(svc: BenchService, forms: Form[], tokenOnce: () => Promise<boolean>, address: (burstNo: number, i: number) => string) {
  let flooding = true;
  const bursts: Burst[] = [];
  const floods = (async () => {
    try {
      for (let b = 0; b < BURSTS; b++) bursts.push(await burst(svc, forms, (i) => address(b, i)));
    } finally {
      flooding = false;
    }
  })();
  const result = await runLoad(16, 10 * 60_000, tokenOnce, () => !flooding);
  await floods;
  const sum = (pick: (b: Burst) => number) => bursts.reduce((total, b) => total + pick(b), 0);
  const answers: Record<string, number> = {};
  for (const b of bursts) for (const [status, n] of Object.entries(b.answers)) answers[status] = (answers[status] ?? 0) + n;
  return { result, seconds: sum((b) => b.seconds), answers, hashes: sum((b) => b.hashes), refused: sum((b) => b.refused) };
}

type Form = { browser: Browser; action: string; csrf: string };

export async function benchLoginFlood(): Promise<string> {
  pinSelf();
  const svc = await startPinnedService({}, 'http:\n  trustedProxies: [127.0.0.1/32]\n');
  try {
    const env = svc.env;
    const service = JSON.parse(cli(svc.dataDir, ['client', 'add', 'bench-svc', '--id', 'bench-svc', '--grant', 'client_credentials', '--scope', 'books:read', '--json'], env)) as { secret: string };
    const web = JSON.parse(cli(svc.dataDir, ['client', 'add', 'bench-web', '--id', 'bench-web', '--first-party', '--redirect-uri', CALLBACK, '--grant', 'authorization_code', '--scope', 'openid', '--json'], env)) as { secret: string };
    const pool = new Pool(svc.url, { connections: 32, pipelining: 1 });
    const ccAuth = basic('bench-svc', service.secret);
    const tokenOnce = async () => {
      const { statusCode, body } = await pool.request({
        path: '/oauth2/token', method: 'POST',
        headers: { authorization: ccAuth, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=books%3Aread',
      });
      await body.arrayBuffer();
      return statusCode === 200;
    };

    // One login form per flood attempt in a burst (a failed login leaves the form usable for the next burst).
    const config = await oidc.discovery(new URL(svc.url), 'bench-web', undefined, oidc.ClientSecretBasic(web.secret), { execute: [oidc.allowInsecureRequests] });
    const forms = [];
    for (let i = 0; i < FLOOD; i++) {
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: `f${i}` });
      const browser = new Browser();
      const page = await browser.follow(url.href, svc.url);
      const html = await page.res.text();
      forms.push({ browser, action: new URL(formAction(html, '/login'), svc.url).href, csrf: formField(html, 'csrf') });
    }

    await runLoad(16, 1500, tokenOnce);
    const undisturbed = await runLoad(16, DURATION_MS, tokenOnce);
    // Every attempt from one address (as in issue 7), then each attempt from its own new address.
    const oneAddress = await underBursts(svc, forms, tokenOnce, () => '198.51.100.1');
    const ownAddress = await underBursts(svc, forms, tokenOnce, (b, i) => `10.${b}.${i >> 8}.${i & 255}`);
    await pool.close();
    const costs = await postCosts(svc, forms, ['198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5']);

    type Flood = Awaited<ReturnType<typeof underBursts>>;
    const row = (name: string, r: LoadResult, flood?: Flood) => [
      name, fmt(r.perSecond), fmt(r.p50, 1), fmt(r.p99, 1), String(r.failed),
      flood ? `${fmt((r.perSecond / undisturbed.perSecond) * 100)} %` : '100 %',
      flood ? `${BURSTS} × ${FLOOD} in ${fmt(flood.seconds, 1)} s: ${listAnswers(flood.answers)}` : '—',
      flood ? `${fmt(flood.hashes)} run, ${fmt(flood.refused)} refused (busy)` : '—',
    ];
    return [
      `Security Service pinned to CPU ${CPU_SUT} (one core), client_credentials load (16 loops) and the floods from the other core, SQLite store, default throttle and passwords settings. A flood is ${BURSTS} bursts of ${FLOOD} parallel wrong-password logins for random names through the sign-in form, back to back; the token rate is measured over the time they last (undisturbed: ${DURATION_MS / 1000} s). Target: ≥ 50 % of undisturbed.`,
      '',
      table(['client_credentials', 'per second', 'p50 ms', 'p99 ms', 'failed', 'of undisturbed', 'login flood (answers)', 'argon2id hashes'], [
        row('undisturbed', undisturbed),
        row('during a flood from one address', oneAddress.result, oneAddress),
        row('during a flood, each attempt from its own address', ownAddress.result, ownAddress),
      ]),
      '',
      'Service CPU per sign-in post from four fresh addresses, no token load:',
      '',
      table(['posts', 'sent', 'answers', 'service CPU ms per post'], costs),
    ].join('\n');
  } finally {
    await svc.stop();
  }
}

if (import.meta.main) console.log(await benchLoginFlood());
