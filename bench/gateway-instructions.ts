/**
 * `npm run bench -- instructions`: the gateway's work per request counted in machine
 * instructions (valgrind's callgrind), against the anchors it is held against, in one run. CPU
 * steal and the VM's changing speed do not change a count, so a change of ≈ 5 % to the gateway's
 * work shows here, where `npm run bench -- gateway` cannot tell 7 % from this VM's noise (a
 * smaller one shows in a loop of the changed function alone under callgrind); req/s stay the
 * targets' measure.
 *
 * Two counts a row: the main thread's (under Node's event loop: the request's own work, within
 * ≈ 2 % between runs of the same code) and all threads'. The other threads' share follows time
 * more than requests: V8's compilers and concurrent collector run by the clock, and under
 * callgrind a request takes ≈ 50× longer (a fresh-token row counted ≈ 300k instructions a
 * request of concurrent marking that a native run does not do; BENCHMARKS.md). Run it on an
 * otherwise idle machine: beside a second callgrind run and the test suite, the gateway's count
 * rose by 25–30 %.
 *
 * What is counted: user-space instructions of the process under test, every thread (the JIT
 * compilers, the GC helpers, the libuv pool). Not counted: the kernel (socket reads and writes,
 * a third of a proxied request's CPU time in the profiles of BENCHMARKS.md), and stalls (a cache
 * miss costs no instruction). Each row is started under callgrind on CPU_SUT, sent WARM requests
 * (until V8's compilers have settled), its counters zeroed, sent N requests (CONNS at a time,
 * undici, from CPU_LOAD), and its counters dumped: instructions ÷ N.
 *
 * Rows: the same as `npm run bench -- gateway` (ROWS, default `node gateway-reuse node-jose
 * gateway-fresh`: the two Node anchors and the gateway rows held against them). Every row gets
 * `Authorization: Bearer` (the reused token, or a fresh one per request on gateway-fresh), as
 * the gateway benchmark's wrk sends it.
 *
 * Settings (environment): WARM (20000) N (4000) CONNS (10) ROWS CPU_SUT (1) CPU_LOAD (0).
 * Needs valgrind (Debian package `valgrind`). ≈ 25 min with the default rows: a request runs
 * ≈ 50× slower under callgrind, and a fresh-token request is mostly one ES256 verification.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { Pool } from 'undici';
import { startUpstream, freePort, repin, available, log, waitHttp, CPU_LOAD } from './gateway/processes.ts';
import { startIssuer, kidOf } from './gateway/issuer.ts';
import { ROWS, ROW_NAMES, URL_PATH, type RowName } from './gateway/targets.ts';
import { writeFreshTokens } from './gateway/fresh-tokens.ts';
import { table, fmt, commitLabel } from './lib.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const env = process.env;
const WARM = Number(env.WARM ?? 20_000);
const N = Number(env.N ?? 4000);
const CONNS = Number(env.CONNS ?? 10);
const chosen = (env.ROWS ?? 'node gateway-reuse node-jose gateway-fresh').split(/\s+/).filter(Boolean) as RowName[];
for (const name of chosen) if (!ROW_NAMES.includes(name)) throw new Error(`unknown row ${name}; rows: ${ROW_NAMES.join(' ')}`);
/** How long a row may take to start under callgrind (the gateway loads its modules ≈ 50× slower). */
const START_TIMEOUT_MS = 10 * 60_000;

if (!(await available('valgrind', ['--version']))) {
  console.log('Skipped: valgrind not found (`apt-get install valgrind`).');
  process.exit(0);
}

const startedAt = new Date();
const workDir = join(ROOT, 'bench/results', `instructions-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(workDir, { recursive: true });
await repin(process.pid, CPU_LOAD);

/**
 * The last dump of `pid` (`<file>.<pid>.1`, written by `callgrind_control --dump`): its total,
 * and the part spent under Node's event loop (`node::SpinEventLoopInternal`, inclusive: the main
 * thread's work once started), undefined for a process that is not Node.
 */
function dumpedInstructions(dir: string, pid: number): { total: number; eventLoop: number | undefined } {
  const dump = readdirSync(dir).find((file) => file.endsWith(`.${pid}.1`));
  if (dump === undefined) throw new Error(`no callgrind dump of pid ${pid} in ${dir}`);
  const total = /^(?:summary|totals): (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'));
  if (total === null) throw new Error(`no total in ${dump}`);
  const annotated = spawnSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', '--auto=no', join(dir, dump)], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout ?? '';
  const eventLoop = /^\s*([\d,]+) \([^)]*\)\s+\S*node::SpinEventLoopInternal/m.exec(annotated);
  return { total: Number(total[1]), eventLoop: eventLoop === null ? undefined : Number(eventLoop[1]!.replaceAll(',', '')) };
}

/** Sends `count` GETs, CONNS at a time; throws unless every one got 200. */
async function send(pool: Pool, count: number, tokenFor: () => string): Promise<void> {
  let sent = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: CONNS }, async () => {
    while (sent < count) {
      sent += 1;
      const response = await pool.request({ method: 'GET', path: URL_PATH, headers: { authorization: `Bearer ${tokenFor()}` } });
      await response.body.dump();
      if (response.statusCode !== 200) failed += 1;
    }
  }));
  if (failed > 0) throw new Error(`${failed} of ${count} requests did not get 200`);
}

const upstream = await startUpstream(workDir);
const issuer = await startIssuer(workDir);
const results = new Map<RowName, { total: number; eventLoop: number | undefined }>();
try {
  const reuse = await issuer.apiToken(issuer.caller);
  const publicKeyFile = await issuer.writePublicKey(workDir, kidOf(reuse));
  const freshFile = join(workDir, 'fresh-tokens.txt');
  let fresh: string[] = [];
  if (chosen.some((name) => ROWS.find((row) => row.name === name)!.freshTokens)) {
    await writeFreshTokens(issuer, reuse, WARM + N + 100, freshFile, workDir, log);
    fresh = readFileSync(freshFile, 'utf8').trimEnd().split('\n');
  }
  for (const row of ROWS.filter((r) => chosen.includes(r.name))) {
    const dir = join(workDir, row.name);
    mkdirSync(dir);
    const port = await freePort();
    const wrapper = ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--trace-children=yes', `--callgrind-out-file=${dir}/callgrind.out.%p`];
    log(`${row.name}: starting under callgrind`);
    const proc = row.start({
      workDir, tag: row.name, port, upstreamUrl: upstream.url, publicKeyFile, wrapper,
      issuer: { url: issuer.url, audience: issuer.audience, gatewayClientId: issuer.gateway.clientId, gatewaySecret: issuer.gateway.secret },
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      // As the gateway benchmark: a gateway row is ready when /readyz says 200, an anchor when it answers at all.
      await waitHttp(base + (row.readyPath ?? URL_PATH), START_TIMEOUT_MS, (code) => row.readyPath === undefined || code === 200, 30_000);
      const pool = new Pool(base, { connections: CONNS });
      let next = 0;
      const tokenFor = row.freshTokens ? () => fresh[next++ % fresh.length]! : () => reuse;
      const warmStarted = Date.now();
      await send(pool, WARM, tokenFor);
      log(`${row.name}: ${WARM} warm-up requests in ${((Date.now() - warmStarted) / 1000).toFixed(0)} s`);
      execFileSync('callgrind_control', ['--zero', String(proc.pid)], { stdio: 'ignore' });
      await send(pool, N, tokenFor);
      execFileSync('callgrind_control', ['--dump', String(proc.pid)], { stdio: 'ignore' });
      await pool.close();
      const counted = dumpedInstructions(dir, proc.pid);
      const perRequest = { total: counted.total / N, eventLoop: counted.eventLoop === undefined ? undefined : counted.eventLoop / N };
      results.set(row.name, perRequest);
      log(`${row.name}: ${fmt(perRequest.total)} instructions a request, ${perRequest.eventLoop === undefined ? '–' : fmt(perRequest.eventLoop)} of them on the main thread`);
    } finally {
      await proc.stop();
    }
  }
} finally {
  await issuer.stop();
  await upstream.process.stop();
}

const BASELINE: Partial<Record<RowName, RowName>> = { 'gateway-reuse': 'node', 'gateway-fresh': 'node-jose', 'node-jose': 'node' };
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(3)}×`);
console.log(`### Instructions a request — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commitLabel(ROOT)}\n`);
console.log(`${spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim()} (callgrind), Node ${process.version}, ${cpus()[0]?.model ?? 'cpu'}; WARM=${WARM} N=${N} CONNS=${CONNS}; callgrind files in ${workDir}\n`);
console.log('*Main thread*: under Node\'s event loop, the request\'s own work (the part that repeats within ≈ 2 % between runs). *All threads* adds the JIT compilers, the concurrent collector and the libuv pool (WebCrypto verifications run there), whose share under callgrind follows its timing more than a native run\'s.\n');
console.log(table(['row', 'main thread', 'all threads', 'against', 'main thread ratio', 'all threads ratio'], ROWS.filter((row) => results.has(row.name)).map((row) => {
  const mine = results.get(row.name)!;
  const baselineName = BASELINE[row.name];
  const baseline = baselineName === undefined ? undefined : results.get(baselineName);
  return [row.name, mine.eventLoop === undefined ? '–' : fmt(mine.eventLoop), fmt(mine.total), baselineName ?? '–', ratio(mine.eventLoop, baseline?.eventLoop), ratio(mine.total, baseline?.total)];
})));
process.exit(0);
