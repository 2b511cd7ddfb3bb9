/**
 * The gateway's overhead against a bare Node proxy (node:http + undici Pool.stream(), no auth —
 * the anchor of /work/shared/bench-anchors), each pinned to one core (CPU_SUT), with wrk, the
 * upstream and the Security Service on the other (CPU_LOAD). wrk sends one valid token, so the
 * gateway runs its whole pipeline with a cached verification: parse, match, authenticate (cache
 * hit), authorize (a permission under the published policy), forward, access log, metrics.
 * Target: ≥ 85 % of the bare proxy's req/s, p99 ≤ 1.5×.
 *
 *   npm run bench -- gateway-overhead   (BENCH_SECONDS=8 by default; needs wrk and taskset; the
 *   full comparison with every anchor and the targets is `npm run bench -- gateway`)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { CPU_LOAD, CPU_SUT, DURATION_MS, freePort, pinSelf, table, fmt } from './lib.ts';
import { startService } from '../test/helpers/service.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const NODE = process.execPath;
const seconds = Math.max(1, Math.round(DURATION_MS / 1000));

const UPSTREAM = `
import http from 'node:http';
const body = Buffer.from(JSON.stringify({ ok: true, service: 'orders', items: [{ id: 1, sku: 'A-100', qty: 2 }, { id: 2, sku: 'B-200', qty: 1 }] }));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
const server = http.createServer((req, res) => { req.resume(); res.writeHead(200, headers); res.end(body); });
server.keepAliveTimeout = 65000;
server.listen(Number(process.env.PORT), '127.0.0.1');`;

/** The anchor: the bare relay of bench-anchors/servers/node-proxy.mjs (AUTH=none, RELAY=stream). */
const BARE_PROXY = `
import http from 'node:http';
import { Pool } from 'undici';
const pool = new Pool(process.env.UPSTREAM_URL, { connections: 128, pipelining: 1, keepAliveTimeout: 60000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);
async function handle(req, res) {
  const headers = {};
  for (const k in req.headers) if (!HOP.has(k)) headers[k] = req.headers[k];
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  try {
    await pool.stream({ method: req.method, path: req.url, headers, body: hasBody ? req : null, opaque: res }, ({ statusCode, headers: rh, opaque }) => {
      const out = {};
      for (const k in rh) if (!HOP.has(k)) out[k] = rh[k];
      opaque.writeHead(statusCode, out);
      return opaque;
    });
  } catch { if (!res.headersSent) res.writeHead(502); res.end(); }
}
const server = http.createServer((req, res) => { handle(req, res).catch(() => res.destroy()); });
server.keepAliveTimeout = 65000;
server.listen(Number(process.env.PORT), '127.0.0.1');`;

const children: ChildProcess[] = [];

function start(cpu: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): ChildProcess {
  const child = spawn('taskset', ['-c', cpu, NODE, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

async function waitFor(url: string, ok: (status: number) => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`${url} did not answer in 30 s`);
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (ok(status)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface WrkResult { rps: number; p50: number; p99: number; non2xx: number }

function wrk(url: string, token: string): WrkResult {
  const out = execFileSync('taskset', ['-c', CPU_LOAD, 'wrk', '-t1', '-c50', `-d${seconds}s`, '--latency', '-H', `Authorization: Bearer ${token}`, url], { encoding: 'utf8' });
  const ms = (text: string | undefined) => {
    const m = /([\d.]+)(us|ms|s)/.exec(text ?? '');
    if (!m) return 0;
    return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
  };
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0),
    p50: ms(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99: ms(/\s99%\s+(\S+)/.exec(out)?.[1]),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0),
  };
}

async function main(): Promise<string> {
  pinSelf();
  const svc = await startService();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-gw-'));
  try {
    const ctx = svc.service.context;
    const user = await ctx.users.create({ username: 'bench', email: 'bench@example.com', password: 'Quartz-Lantern-Meadow-8142', roles: ['staff'] }, 'bench');
    const client = await ctx.oauth.clients.create({ clientId: 'gateway', name: 'Gateway', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read' }, 'bench');
    const audience = svc.config.resources[0]!.audience;
    const now = Math.floor(Date.now() / 1000);
    const token = await ctx.keys.sign({ iss: svc.config.issuer, sub: user.id, aud: audience, client_id: 'shop', scope: 'openid', roles: ['staff'], jti: randomUUID(), iat: now, exp: now + 3600 }, { typ: 'at+jwt' });

    const [upstreamPort, barePort, gatewayPort] = [await freePort(), await freePort(), await freePort()];
    writeFileSync(join(dir, 'upstream.mjs'), UPSTREAM);
    writeFileSync(join(dir, 'bare-proxy.mjs'), BARE_PROXY.replace("from 'undici'", `from '${join(ROOT, 'node_modules/undici/index.js')}'`));
    start(CPU_LOAD, [join(dir, 'upstream.mjs')], { PORT: String(upstreamPort) });
    const upstream = `http://127.0.0.1:${upstreamPort}`;
    await waitFor(upstream, (s) => s === 200);

    start(CPU_SUT, [join(dir, 'bare-proxy.mjs')], { PORT: String(barePort), UPSTREAM_URL: upstream });
    writeFileSync(join(dir, 'gatehouse.yaml'), [
      `issuer: ${svc.config.issuer}`,
      'log: { level: info }',
      `services: { orders: ["${upstream}"] }`,
      'routes:',
      '  - { methods: [GET], path: /api/orders, service: orders, permissions: [orders:read] }',
      `gateway: { listen: { port: ${gatewayPort} }, audience: "${audience}", credentials: { clientId: gateway } }`,
    ].join('\n'));
    start(CPU_SUT, [join(ROOT, 'src/cli/main.ts'), '--config', join(dir, 'gatehouse.yaml'), 'serve', 'gateway'], { GATEHOUSE_GATEWAY_CLIENT_SECRET: client.secret! }, dir);
    await waitFor(`http://127.0.0.1:${barePort}/api/orders`, (s) => s === 200);
    await waitFor(`http://127.0.0.1:${gatewayPort}/readyz`, (s) => s === 200);

    const rows: Array<Array<string | number>> = [];
    const results: Record<string, WrkResult> = {};
    for (const [name, url] of [['bare proxy (no auth)', `http://127.0.0.1:${barePort}/api/orders`], ['gateway (cached token, permission check)', `http://127.0.0.1:${gatewayPort}/api/orders`]] as const) {
      wrk(url, token); // warm-up (JIT, pools, the token cache)
      const result = wrk(url, token);
      if (result.non2xx > 0) throw new Error(`${name}: ${result.non2xx} responses were not 2xx`);
      results[name] = result;
    }
    const bare = results['bare proxy (no auth)']!;
    for (const [name, r] of Object.entries(results)) {
      rows.push([name, fmt(r.rps), `${fmt((r.rps / bare.rps) * 100)} %`, fmt(r.p50, 2), fmt(r.p99, 2), `${fmt(r.p99 / bare.p99, 2)}×`]);
    }
    const gw = results['gateway (cached token, permission check)']!;
    const verdict = gw.rps >= 0.85 * bare.rps && gw.p99 <= 1.5 * bare.p99 ? 'target met' : 'target missed';
    return `${table(['target', 'req/s', 'of bare', 'p50 ms', 'p99 ms', 'p99 of bare'], rows)}\n\nwrk -t1 -c50 -d${seconds}s, one core each (CPU_SUT=${CPU_SUT}); target ≥ 85 % req/s and p99 ≤ 1.5×: **${verdict}**.`;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then((text) => { console.log(text); process.exit(0); }, (error: unknown) => { console.error(error); for (const child of children) child.kill('SIGKILL'); process.exit(1); });
