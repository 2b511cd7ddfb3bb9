/**
 * What a route's `rateLimit` costs at the gateway, counted in the replica's memory and shared
 * through Redis (`gateway.redis`): `npm run bench -- rate-limit`. One run, three targets on the
 * same route shape and the same reused token: a route without a limit, the same with a limit
 * counted in memory, the same with the limit counted in Redis (a limit high enough never to
 * refuse, so every request is counted and forwarded). Two `gatehouse serve gateway` processes
 * (without and with `gateway.redis`), each alone on CPU_SUT while it is measured; wrk, the
 * upstream and the Security Service on CPU_LOAD; Redis where the machine runs it (not pinned: its
 * CPU is reported, not charged to the gateway). Windows alternate between the targets, PASSES
 * times, so a drift of the machine hits every target alike.
 *
 * Settings (environment): DURATION (10s) WARMUP (3s) PASSES (3) CONNS (50) THREADS (1)
 * CPU_SUT (1) CPU_LOAD (0) WRK, REDIS_URL (redis://127.0.0.1:6379). A smoke run: DURATION=2s WARMUP=1s PASSES=1.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createClient } from '@redis/client';
import { startUpstream, freePort, waitHttp, repin, log, loadSettings, CPU_SUT, CPU_LOAD, type Pinned } from './gateway/processes.ts';
import { runWrk, errorsOf, type WrkNumbers } from './gateway/wrk.ts';
import { startIssuer, PERMISSION, type Issuer } from './gateway/issuer.ts';
import { startGateway } from './gateway/targets.ts';
import { table, fmt } from './lib.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const env = process.env;
const { duration, warmup, passes, connections, threads } = loadSettings({ duration: '10s', warmup: '3s', passes: 3 });
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const startedAt = new Date();
const workDir = join(ROOT, 'bench/results', `rate-limit-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(workDir, { recursive: true });
await repin(process.pid, CPU_LOAD);
const keyPrefix = `gatehouse-bench:${startedAt.getTime()}:`;

/** Never refuses during a run: every request is counted and forwarded. */
const NEVER_REACHED = { requests: 1_000_000_000, per: '1h' };

/** A gateway row's process with both routes, counting in Redis when `redis`. */
function startGatewayWith(tag: string, issuer: Issuer, upstreamUrl: string, port: number, redis: boolean): Pinned {
  return startGateway({
    workDir, tag, port, upstreamUrl, publicKeyFile: '',
    issuer: { url: issuer.url, audience: issuer.audience, gatewayClientId: issuer.gateway.clientId, gatewaySecret: issuer.gateway.secret },
  }, {
    routes: [
      { methods: ['GET'], path: '/api/orders', service: 'orders', permissions: [PERMISSION] },
      { methods: ['GET'], path: '/api/limited', service: 'orders', permissions: [PERMISSION], rateLimit: NEVER_REACHED },
    ],
    gateway: redis ? { redis: { url: redisUrl, keyPrefix } } : {},
  });
}

/** CPU seconds Redis has used so far (INFO cpu): it is not pinned, so it is reported beside the gateway's. */
async function redisCpuSeconds(client: { info(section: string): Promise<unknown> }): Promise<number> {
  const info = String(await client.info('cpu'));
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return field('used_cpu_sys') + field('used_cpu_user');
}

interface Target { name: string; label: string; url: string; gateway: Pinned }
interface Window { target: string; numbers: WrkNumbers; cpuUsPerRequest: number; redisUsPerRequest: number }

let upstream: Pinned | undefined;
let issuer: Issuer | undefined;
const gateways: Pinned[] = [];
const redis = createClient({ url: redisUrl });
redis.on('error', () => {});
const windows: Window[] = [];
try {
  await redis.connect();
  const started = await startUpstream(workDir);
  upstream = started.process;
  log('starting the issuer (gatehouse serve auth)');
  issuer = await startIssuer(workDir);
  const token = await issuer.apiToken(issuer.caller);
  const [localPort, sharedPort] = [await freePort(), await freePort()];
  const local = startGatewayWith('gateway-local', issuer, started.url, localPort, false);
  const shared = startGatewayWith('gateway-redis', issuer, started.url, sharedPort, true);
  gateways.push(local, shared);
  for (const port of [localPort, sharedPort]) await waitHttp(`http://127.0.0.1:${port}/readyz`, 60_000, (code) => code === 200);
  const targets: Target[] = [
    { name: 'no-limit', label: 'route without rateLimit', url: `http://127.0.0.1:${localPort}/api/orders`, gateway: local },
    { name: 'memory', label: 'rateLimit counted in the replica\'s memory', url: `http://127.0.0.1:${localPort}/api/limited`, gateway: local },
    { name: 'redis', label: 'rateLimit counted in Redis (`gateway.redis`)', url: `http://127.0.0.1:${sharedPort}/api/limited`, gateway: shared },
  ];
  for (const target of targets) {
    const response = await fetch(target.url, { headers: { authorization: `Bearer ${token}` } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`sanity: ${target.name} answered ${response.status}`);
  }
  const load = { connections, threads, feed: { kind: 'one', token } as const };
  for (const target of targets) {
    log(`warm-up ${target.name}`);
    await runWrk({ ...load, url: target.url, duration: warmup });
  }
  for (let pass = 1; pass <= passes; pass++) {
    for (const target of pass % 2 === 1 ? targets : [...targets].reverse()) {
      const cpu0 = target.gateway.cpuSeconds();
      const redis0 = await redisCpuSeconds(redis);
      const run = await runWrk({ ...load, url: target.url, duration });
      const cpu = target.gateway.cpuSeconds() - cpu0;
      const redisCpu = (await redisCpuSeconds(redis)) - redis0;
      writeFileSync(join(workDir, `${target.name}.pass${pass}.wrk.txt`), run.output);
      windows.push({ target: target.name, numbers: run.numbers, cpuUsPerRequest: (cpu / run.numbers.requests) * 1e6, redisUsPerRequest: (redisCpu / run.numbers.requests) * 1e6 });
      log(`pass ${pass} ${target.name}: ${Math.round(run.numbers.rps)} req/s, p99 ${(run.numbers.p99_us / 1000).toFixed(2)} ms, errors ${errorsOf(run.numbers)}`);
    }
  }
  const keys = await redis.keys(`${keyPrefix}*`);

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = targets.map((target) => {
    const ws = windows.filter((w) => w.target === target.name);
    return { target, rps: mean(ws.map((w) => w.numbers.rps)), p50: mean(ws.map((w) => w.numbers.p50_us)), p99: mean(ws.map((w) => w.numbers.p99_us)), cpu: mean(ws.map((w) => w.cpuUsPerRequest)), redisCpu: mean(ws.map((w) => w.redisUsPerRequest)), errors: ws.reduce((n, w) => n + errorsOf(w.numbers), 0), perPass: ws.map((w) => Math.round(w.numbers.rps)) };
  });
  const base = summary[0]!;
  const markdown = [
    `### Rate limits in memory and in Redis — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`DURATION=${duration} WARMUP=${warmup} PASSES=${passes} CONNS=${connections} THREADS=${threads} npm run bench -- rate-limit\` (bench/gateway-rate-limit.ts); ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, node ${process.version}`,
    '',
    `Two \`gatehouse serve gateway\` processes on CPU ${CPU_SUT} (one measured at a time), routes \`GET /api/orders\` and \`GET /api/limited\` with \`permissions: [${PERMISSION}]\`, the second with a \`rateLimit\` never reached (${NEVER_REACHED.requests.toLocaleString('en')} per ${NEVER_REACHED.per}): every request is counted twice (per address and per caller) and forwarded. wrk, the upstream and the issuer on CPU ${CPU_LOAD}; Redis (${redisUrl.replace(/\/\/[^@]*@/, '//')}) unpinned, its CPU per request measured from \`INFO cpu\`. Counter keys left in Redis: ${keys.length}.`,
    '',
    table(
      ['target', 'req/s (mean)', 'per pass', 'p50 ms', 'p99 ms', 'gateway CPU µs/req', 'Redis CPU µs/req', 'errors', 'vs no limit'],
      summary.map((s) => [s.target.label, fmt(s.rps), s.perPass.join(', '), fmt(s.p50 / 1000, 2), fmt(s.p99 / 1000, 2), fmt(s.cpu), fmt(s.redisCpu, 1), s.errors, `${fmt((s.rps / base.rps) * 100, 1)} %`]),
    ),
  ].join('\n');
  writeFileSync(join(workDir, 'summary.md'), `${markdown}\n`);
  console.log(markdown);
} finally {
  for (const gateway of gateways) await gateway.stop();
  await upstream?.stop();
  await issuer?.stop();
  for (const key of await redis.keys(`${keyPrefix}*`).catch(() => [])) await redis.del(key).catch(() => 0);
  redis.destroy();
  rmSync(join(workDir, 'gateway-client-secret'), { force: true });
}
log(`raw output in ${workDir}`);
process.exit(0);
