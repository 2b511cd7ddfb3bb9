/**
 * The API gateway against its anchors, issue 6: `npm run bench -- gateway` (or directly
 * `npm exec -- node bench/gateway.ts`). One run, one machine, one upstream, fixed concurrency:
 * each process under test alone on CPU_SUT, wrk + the upstream + the issuer (a real Security
 * Service, idle while a window is measured) on CPU_LOAD, loopback only, every process bounded
 * in time and stopped by its process group. Rows: the upstream direct, a bare Node proxy, the same
 * + one jose verification per request, HAProxy jwt_verify, fastify + @fastify/jwt +
 * @fastify/http-proxy, and `gatehouse serve gateway` with a reused and with a fresh token per
 * request; then the revocation latency. Prints markdown for BENCHMARKS.md; raw wrk output, logs and
 * results.jsonl stay in bench/results/gateway-<time>/.
 *
 * Every row's process is started first and stays up, idle, while the others are measured; the
 * windows go round the rows PASSES times (even passes in reverse), each after a REWARM, so rows
 * are compared seconds apart rather than minutes (./gateway/measure.ts), each gateway row beside
 * its anchors. A target's verdict is the median of the passes' ratios (./gateway/report.ts).
 *
 * Settings (environment): DURATION (4s) WARMUP (5s) REWARM (1s) PASSES (7) CONNS (50) THREADS (1)
 * NOISE_MAX (0.2 cores) NOISE_RETRIES (3) TOKENS (distinct fresh tokens; default enough for
 * 8,000 req/s through warm-up and window) REVOCATIONS (60 samples) ROWS (space-separated subset)
 * CPU_SUT (1) CPU_LOAD (0) WRK HAPROXY ACCESS_LOG (file | devnull) ANCHOR_NODE_FLAGS, GATEWAY_NODE_FLAGS (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the gateway).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, appendFileSync, writeFileSync, rmSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, release } from 'node:os';
import { startUpstream, freePort, waitHttp, available, repin, log, CPU_SUT, CPU_LOAD, type Pinned } from './gateway/processes.ts';
import { WRK, seconds } from './gateway/wrk.ts';
import { startIssuer, kidOf, ROLE, PERMISSION, type Issuer } from './gateway/issuer.ts';
import { ROWS, ROW_NAMES, HAPROXY, ACCESS_LOG_TO_DEV_NULL, type RowContext } from './gateway/targets.ts';
import { startRow, measureWindow, type RowResult, type RunningRow, type Settings, type Tokens } from './gateway/measure.ts';
import { measureRevocation, type RevocationResult } from './gateway/revocation.ts';
import { renderReport } from './gateway/report.ts';
import { writeFreshTokens } from './gateway/fresh-tokens.ts';
import { commitLabel } from './lib.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const env = process.env;
const settings: Settings = {
  duration: env.DURATION ?? '4s',
  warmup: env.WARMUP ?? '5s',
  rewarm: env.REWARM ?? '1s',
  connections: Number(env.CONNS ?? 50),
  threads: Number(env.THREADS ?? 1),
  noiseMax: Number(env.NOISE_MAX ?? 0.2),
  noiseRetries: Number(env.NOISE_RETRIES ?? 3),
};
const passes = Number(env.PASSES ?? 7);
const tokenCount = Number(env.TOKENS ?? Math.max(25_000, 8000 * (seconds(settings.warmup) + seconds(settings.duration))));
// More than twice the gateway's token cache (10,000, FIFO): a token sent again after the list wraps was dropped long before.
if (!(tokenCount >= 20_000)) throw new Error(`TOKENS=${env.TOKENS}: at least 20000, twice the gateway's token cache`);
const revocations = Number(env.REVOCATIONS ?? 60);
const chosen = (env.ROWS ?? ROW_NAMES.join(' ')).split(/\s+/).filter(Boolean);
for (const name of chosen) if (!ROW_NAMES.includes(name as never)) throw new Error(`unknown row ${name}; rows: ${ROW_NAMES.join(' ')}`);

const startedAt = new Date();
const workDir = join(ROOT, 'bench/results', `gateway-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(workDir, { recursive: true });

/** stdout + stderr of a command, whatever its exit status (`wrk -v` exits 1); '' when it cannot run. */
function sh(command: string, args: string[]): string {
  const run = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  return run.error ? '' : `${run.stdout}${run.stderr}`.trim();
}
const version = (pkg: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The same token with one signature character changed. */
function breakSignature(token: string): string {
  const i = token.length - 10;
  return token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
}

// The harness (all its threads) stays off the core under test: it signs tokens and drives the revocation samples.
await repin(process.pid, CPU_LOAD);
const hasWrk = await available(WRK, ['-v']);
const hasHaproxy = await available(HAPROXY, ['-v']);
const skipped: Array<{ row: string; why: string }> = [];
const rows = ROWS.filter((row) => {
  if (!chosen.includes(row.name)) return false;
  if (!hasWrk) { skipped.push({ row: row.name, why: `wrk not found (${WRK}): \`apt-get install wrk\`` }); return false; }
  if (row.needs === HAPROXY && !hasHaproxy) { skipped.push({ row: row.name, why: `haproxy not found (${HAPROXY}): \`apt-get install haproxy\`` }); return false; }
  return true;
});

let upstream: Pinned | undefined;
let issuer: Issuer | undefined;
const results: RowResult[] = [];
const running: RunningRow[] = [];
let revocation: RevocationResult | { skipped: string } = { skipped: 'REVOCATIONS=0' };
let freshNote = '';
let accessLogNote = ACCESS_LOG_TO_DEV_NULL ? 'Access log on (`gateway.accessLog: true`, log level info), its JSON lines written to /dev/null (`ACCESS_LOG=devnull`).' : '';
try {
  const started = await startUpstream(workDir);
  upstream = started.process;
  log('starting the issuer (gatehouse serve auth) and creating its clients');
  issuer = await startIssuer(workDir);
  const reuse = await issuer.apiToken(issuer.caller);
  const publicKeyFile = await issuer.writePublicKey(workDir, kidOf(reuse));
  const tokens: Tokens = { reuse, noRole: await issuer.apiToken(issuer.noRole), badSignature: breakSignature(reuse), freshFile: join(workDir, 'fresh-tokens.txt'), freshCount: 0 };
  if (rows.some((row) => row.freshTokens)) {
    const made = await writeFreshTokens(issuer, reuse, tokenCount, tokens.freshFile, workDir, log);
    tokens.freshCount = tokenCount;
    freshNote = `${made}. A wrk Lua script sends them in order, a new one per request (the window goes on where the warm-up stopped). The gateway's token cache keeps the 10,000 newest, so none can be a hit, even where the list wraps around.`;
  }
  const context = async (tag: string): Promise<RowContext> => ({
    workDir, tag, port: await freePort(), upstreamUrl: started.url, publicKeyFile,
    issuer: { url: issuer!.url, audience: issuer!.audience, gatewayClientId: issuer!.gateway.clientId, gatewaySecret: issuer!.gateway.secret },
  });
  // Every row's process up at once (idle while the others are measured), then the windows go
  // round the rows; even passes go in reverse, so what drift is left weighs on every row alike.
  for (const row of rows) {
    try {
      running.push(await startRow(row, await context(row.name), tokens, settings, log));
    } catch (error) {
      // One broken target must not cost the whole run: say so in the report and go on.
      log(`${row.name} FAILED to start: ${(error as Error).message}`);
      skipped.push({ row: row.name, why: `failed: ${(error as Error).message}` });
    }
  }
  for (let pass = 1; pass <= passes; pass++) {
    for (const target of pass % 2 === 1 ? running : [...running].reverse()) {
      let result: RowResult;
      try {
        result = await measureWindow(target, pass, { upstream, issuer: issuer.process }, tokens, settings, log);
      } catch (error) {
        log(`pass ${pass} ${target.row.name} FAILED: ${(error as Error).message}`);
        skipped.push({ row: `${target.row.name} (pass ${pass})`, why: `failed: ${(error as Error).message}` });
        continue;
      }
      results.push(result);
      appendFileSync(join(workDir, 'results.jsonl'), `${JSON.stringify(result)}\n`);
    }
  }
  for (const target of running.splice(0)) {
    await target.proc.stop();
    if (target.row.name.startsWith('gateway') && !ACCESS_LOG_TO_DEV_NULL) {
      const bytes = statSync(target.proc.logFile).size;
      accessLogNote = `Access log on (\`gateway.accessLog: true\`, log level info), its JSON lines written to a file (${fmtInt(countLines(target.proc.logFile))} lines, ${fmtInt(bytes / 1e6)} MB from the ${target.row.name} row: start-up, warm-ups and windows); \`ACCESS_LOG=devnull\` sends them to /dev/null.`;
      rmSync(target.proc.logFile);
    }
  }
  if (revocations > 0) {
    log(`revocation latency: ${revocations} users disabled one after another`);
    const ctx = await context('revocation');
    const gateway = ROWS.find((row) => row.name === 'gateway-reuse')!.start(ctx);
    try {
      await waitHttp(`http://127.0.0.1:${ctx.port}/readyz`, 60_000, (code) => code === 200);
      revocation = await measureRevocation(issuer, `http://127.0.0.1:${ctx.port}`, tokens.reuse, revocations, log);
    } finally {
      await gateway.stop();
    }
  }
} finally {
  for (const target of running) await target.proc.stop();
  await issuer?.stop();
  await upstream?.stop();
  rmSync(join(workDir, 'issuer-data'), { recursive: true, force: true });
  rmSync(join(workDir, 'fresh-tokens.txt'), { force: true });
  rmSync(join(workDir, 'gateway-client-secret'), { force: true });
}

function countLines(file: string): number {
  let n = 0;
  const data = readFileSync(file);
  for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) n++;
  return n;
}
function fmtInt(n: number): string { return Math.round(n).toLocaleString('en-US'); }

const optional = ['ROWS', 'TOKENS', 'REVOCATIONS', 'ACCESS_LOG', 'NOISE_MAX', 'NOISE_RETRIES', 'CPU_SUT', 'CPU_LOAD'].filter((name) => env[name] !== undefined).map((name) => ` ${name}=${/^[\w.,:/-]+$/.test(env[name]!) ? env[name] : JSON.stringify(env[name])}`);
const settingsLine = `DURATION=${settings.duration} WARMUP=${settings.warmup} REWARM=${settings.rewarm} PASSES=${passes} CONNS=${settings.connections} THREADS=${settings.threads}${optional.join('')}`;
const heading = [
  `### API gateway vs anchors — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commitLabel(ROOT)}`,
  '',
  `\`${settingsLine} npm run bench -- gateway\` (bench/gateway.ts)`,
  '',
  '```',
  `cpu: ${cpus()[0]?.model ?? '?'} × ${cpus().length}; kernel ${release()}; node ${process.version} (openssl ${process.versions.openssl})`,
  `${sh(HAPROXY, ['-v']).split('\n')[0] || 'haproxy: not installed'}; ${sh(WRK, ['-v']).split('\n')[0] || 'wrk: not installed'}`,
  `fastify ${version('fastify')}, @fastify/jwt ${version('@fastify/jwt')}, @fastify/http-proxy ${version('@fastify/http-proxy')}, jose ${version('jose')}, undici ${version('undici')}`,
  '```',
  '',
  `Every process under test runs on CPU ${CPU_SUT} (taskset, its own session and process group); all are started, checked and warmed up (${settings.warmup}) first and stay up, idle while another is measured, so only the one being measured uses the core. wrk (\`-t${settings.threads} -c${settings.connections}\`) then goes round the rows ${passes} time${passes === 1 ? '' : 's'} (even passes in reverse row order), each window ${settings.duration} after a ${settings.rewarm} re-warm-up: a row and its anchors are measured seconds apart, not minutes, each gateway row next to the anchors it is held against. A target's verdict is the median of the passes' ratios (each pass's ratio compares two windows seconds apart, so it cancels the VM's drift in speed, which moves whole windows by up to 2× from one minute to the next); the ratio of the means is shown beside it. The upstream (node:http, a 102-byte JSON body) and the issuer (a real Security Service, \`gatehouse serve auth\`, idle during the windows) run on CPU ${CPU_LOAD}. Everything on 127.0.0.1. Every target gets \`GET /api/orders\` with \`Authorization: Bearer <ES256 JWT>\`; the route needs \`${PERMISSION}\`, held by the role \`${ROLE}\`.`,
  '',
  `- Token reused: one client_credentials access token from the issuer's token endpoint (role \`${ROLE}\`, \`aud\` = the gateway's audience). The anchors verify it with the issuer's active public key, taken from its JWKS.`,
  freshNote ? `- Fresh token per request: ${freshNote}` : '- Fresh token per request: not run.',
  `- The gateway: \`gatehouse serve gateway\` with a gatehouse.yaml (one service → the upstream, one route \`GET /api/orders\` with \`permissions: [${PERMISSION}]\`, the audience, its own client_credentials credential \`bench-gateway\` with \`events:read\`, secret in a 0600 file); it loads discovery, JWKS and /policy over HTTP and follows the event stream. ${accessLogNote || 'Access log on, to a file.'}`,
  `- CPU µs/req: user + system time of the process group under test (/proc) over the requests of the window. "other procs": busy CPU of everything else on the machine during the window; a window above ${settings.noiseMax} cores is measured again (up to ${settings.noiseRetries} times) and the quietest kept ("window n").`,
  `- Revocation: the gateway serves light load (one client, reused token, a request every 2 ms); one new user per sample (role \`${ROLE}\`) signs in through the login form beforehand; then, one user at a time, the gateway answers 200 to their token three times, the user is disabled through the admin API (\`POST /admin/api/users/{user}/disable\`), and the gateway is asked every millisecond until it answers 401. A sample is the time from sending the disable request to the first 401.`,
];
const markdown = renderReport({ heading, results, skipped, revocation });
writeFileSync(join(workDir, 'summary.md'), `${markdown}\n`);
console.log(markdown);
log(`raw output in ${workDir}`);
