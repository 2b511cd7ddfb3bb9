/**
 * Personal API tokens through the gateway vs JWTs, in one run (issue 8: once the exchange is
 * cached, ≥ 95 % of the JWT rate): `npm run bench -- api-token` (or `npm exec -- node
 * bench/api-token.ts`). One `gatehouse serve gateway` alone on CPU_SUT; wrk, the upstream and the
 * Security Service (in this harness process: idle during the windows, once each token was
 * exchanged) on CPU_LOAD; loopback only. Windows alternate between the targets (JWT, API token as
 * Bearer, API token as Basic) on the same gateway process, PASSES times, so a drift of the machine
 * hits every target alike. The gateway's token-endpoint requests are counted from its /metrics
 * before and after the windows: the exchange must be cached (no new exchange during a window).
 *
 * Settings (environment): DURATION (10s) WARMUP (3s) PASSES (3) CONNS (50) THREADS (1)
 * CPU_SUT (1) CPU_LOAD (0) WRK. A smoke run: DURATION=2s WARMUP=1s PASSES=1.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { configSchema } from '../src/config/index.ts';
import { createSecurityService, type SecurityService } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { startUpstream, freePort, waitHttp, repin, log, loadSettings, CPU_SUT, CPU_LOAD, type Pinned } from './gateway/processes.ts';
import { runWrk, errorsOf, type TokenFeed, type WrkNumbers } from './gateway/wrk.ts';
import { ROWS, URL_PATH } from './gateway/targets.ts';
import { ROLE, PERMISSION } from './gateway/issuer.ts';
import { table, fmt } from './lib.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { duration, warmup, passes, connections, threads } = loadSettings({ duration: '10s', warmup: '3s', passes: 3 });

const startedAt = new Date();
const workDir = join(ROOT, 'bench/results', `api-token-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(workDir, { recursive: true });
await repin(process.pid, CPU_LOAD);

/** The Security Service, in this process: a user with the route's role, the gateway's client with tokens:exchange, a caller client. */
async function startSecurityService(): Promise<{ service: SecurityService; url: string; audience: string; gateway: { clientId: string; secret: string }; jwt: string; apiToken: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const audience = `${url}/api`;
  const config = configSchema.parse({
    issuer: url,
    dataDir: join(workDir, 'issuer-data'),
    listen: { host: '127.0.0.1', port, tlsPort: await freePort() },
    resources: [{ audience, scopes: [PERMISSION] }],
    roles: { admin: ['*'], [ROLE]: [PERMISSION] },
    tokens: { accessTokenTtl: 3600 },
  });
  const service = await createSecurityService({ config, logger: silentLogger(), env: {} });
  await service.listen();
  const ctx = service.context;
  const gateway = await ctx.oauth.clients.create({ clientId: 'bench-gateway', name: 'Gateway', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read tokens:exchange' }, 'bench');
  const caller = await ctx.oauth.clients.create({ clientId: 'bench-caller', name: 'Caller', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: PERMISSION, roles: [ROLE] }, 'bench');
  const user = await ctx.users.create({ username: 'bench-user', email: 'bench-user@bench.example', password: 'Quartz-Lantern-Meadow-8142', roles: [ROLE] }, 'bench');
  const { token: apiToken } = await ctx.apiTokens.create({ userId: user.id, name: 'bench', scopes: [PERMISSION], expiresIn: 86400 }, 'bench');
  const response = await fetch(`${url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`bench-caller:${encodeURIComponent(caller.secret!)}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: PERMISSION, resource: audience }),
  });
  const jwt = ((await response.json()) as { access_token: string }).access_token;
  return { service, url, audience, gateway: { clientId: 'bench-gateway', secret: gateway.secret! }, jwt, apiToken };
}

async function status(url: string, authorization: string): Promise<number> {
  const response = await fetch(url, { headers: { authorization }, signal: AbortSignal.timeout(5000) });
  await response.arrayBuffer();
  return response.status;
}

/** Token-endpoint requests the gateway made so far (its client_credentials token and exchanges), from /metrics. */
async function tokenRequests(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let sum = 0;
  for (const match of text.matchAll(/^gatehouse_gateway_security_service_requests_total\{[^}]*kind="token"[^}]*\} (\d+)/gm)) sum += Number(match[1]);
  return sum;
}

interface Target { name: string; label: string; feed: TokenFeed }
interface Window { target: string; pass: number; numbers: WrkNumbers; cpuUsPerRequest: number }

let upstream: Pinned | undefined;
let gateway: Pinned | undefined;
let issuer: Awaited<ReturnType<typeof startSecurityService>> | undefined;
const windows: Window[] = [];
let sanity = '';
let exchangesDuringWindows = NaN;
try {
  const started = await startUpstream(workDir);
  upstream = started.process;
  log('starting the Security Service (in this process) and making a JWT and a personal API token');
  issuer = await startSecurityService();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  gateway = ROWS.find((row) => row.name === 'gateway-reuse')!.start({
    workDir, tag: 'gateway', port, upstreamUrl: started.url, publicKeyFile: '',
    issuer: { url: issuer.url, audience: issuer.audience, gatewayClientId: issuer.gateway.clientId, gatewaySecret: issuer.gateway.secret },
  });
  await waitHttp(`${base}/readyz`, 60_000, (code) => code === 200);
  const url = `${base}${URL_PATH}`;
  const basic = `Basic ${Buffer.from(`me:${issuer.apiToken}`).toString('base64')}`;
  const typo = issuer.apiToken.slice(0, 10) + (issuer.apiToken[10] === 'a' ? 'b' : 'a') + issuer.apiToken.slice(11);
  const codes = [await status(url, `Bearer ${issuer.jwt}`), await status(url, `Bearer ${issuer.apiToken}`), await status(url, basic), await status(url, `Bearer ${typo}`)];
  sanity = `${codes.join('/')} (JWT / API token Bearer / API token Basic / API token with a typo)`;
  if (codes.join('/') !== '200/200/200/401') throw new Error(`sanity failed: ${sanity}`);
  const targets: Target[] = [
    { name: 'jwt', label: 'JWT (client_credentials access token, reused)', feed: { kind: 'one', token: issuer.jwt } },
    { name: 'api-token', label: 'personal API token, `Authorization: Bearer gth_…` (exchange cached)', feed: { kind: 'one', token: issuer.apiToken } },
    { name: 'api-token-basic', label: 'personal API token, `Authorization: Basic …` (exchange cached)', feed: { kind: 'authorization', value: basic } },
  ];
  const load = { url, connections, threads };
  for (const target of targets) {
    log(`warm-up ${target.name}`);
    await runWrk({ ...load, duration: warmup, feed: target.feed });
  }
  const before = await tokenRequests(base);
  for (let pass = 1; pass <= passes; pass++) {
    for (const target of targets) {
      const cpu0 = gateway.cpuSeconds();
      const run = await runWrk({ ...load, duration, feed: target.feed });
      const cpu = gateway.cpuSeconds() - cpu0;
      writeFileSync(join(workDir, `${target.name}.pass${pass}.wrk.txt`), run.output);
      windows.push({ target: target.name, pass, numbers: run.numbers, cpuUsPerRequest: (cpu / run.numbers.requests) * 1e6 });
      log(`pass ${pass} ${target.name}: ${Math.round(run.numbers.rps)} req/s, p99 ${(run.numbers.p99_us / 1000).toFixed(2)} ms, errors ${errorsOf(run.numbers)}`);
    }
  }
  exchangesDuringWindows = (await tokenRequests(base)) - before;

  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const summary = targets.map((target) => {
    const ws = windows.filter((w) => w.target === target.name);
    return { target, rps: mean(ws.map((w) => w.numbers.rps)), p50: mean(ws.map((w) => w.numbers.p50_us)), p99: mean(ws.map((w) => w.numbers.p99_us)), cpu: mean(ws.map((w) => w.cpuUsPerRequest)), errors: ws.reduce((n, w) => n + errorsOf(w.numbers), 0), perPass: ws.map((w) => Math.round(w.numbers.rps)) };
  });
  const jwtRps = summary[0]!.rps;
  const lines = [
    `### Personal API tokens vs JWT through the gateway — ${startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `\`DURATION=${duration} WARMUP=${warmup} PASSES=${passes} CONNS=${connections} THREADS=${threads} npm run bench -- api-token\` (bench/api-token.ts); ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, node ${process.version}`,
    '',
    `One \`gatehouse serve gateway\` on CPU ${CPU_SUT} (route \`GET ${URL_PATH}\`, \`permissions: [${PERMISSION}]\`, access log on, to a file); wrk, the upstream and the Security Service on CPU ${CPU_LOAD}. Windows alternate between the targets, ${passes} pass${passes === 1 ? '' : 'es'}. Sanity: ${sanity}. Token-endpoint requests by the gateway during the windows: ${exchangesDuringWindows} (the exchange stayed cached).`,
    '',
    table(
      ['target', 'req/s (mean)', 'per pass', 'p50 ms', 'p99 ms', 'gateway CPU µs/req', 'errors', 'vs JWT'],
      summary.map((s) => [s.target.label, fmt(s.rps), s.perPass.join(', '), fmt(s.p50 / 1000, 2), fmt(s.p99 / 1000, 2), fmt(s.cpu), s.errors, `${fmt((s.rps / jwtRps) * 100, 1)} %`]),
    ),
    '',
    ...summary.slice(1).map((s) => `- ${s.target.name}: ${fmt((s.rps / jwtRps) * 100, 1)} % of the JWT rate — target ≥ 95 %: ${s.rps / jwtRps >= 0.95 ? 'met' : 'NOT met'}.`),
  ];
  const markdown = lines.join('\n');
  writeFileSync(join(workDir, 'summary.md'), `${markdown}\n`);
  console.log(markdown);
} finally {
  await gateway?.stop();
  await upstream?.stop();
  await issuer?.service.close();
  rmSync(join(workDir, 'issuer-data'), { recursive: true, force: true });
  rmSync(join(workDir, 'gateway-client-secret'), { force: true });
}
log(`raw output in ${workDir}`);
process.exit(0);
