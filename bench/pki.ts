/**
 * Internal CA and mTLS benchmark (`npm run bench -- pki`, which pins it to one core; or
 * `npm exec -- node bench/pki.ts`). Every measurement runs a warm-up (BENCH_PKI_WARMUP seconds,
 * default 1: JIT, statement cache, connection pools) and then is bounded in time
 * (BENCH_PKI_SECONDS, default 4 s). Everything runs in this one process on one thread (client
 * and server share the core for the HTTP measurements), on loopback, with the SQLite store.
 * Besides the wall rate it records the process's CPU time per operation (process.cpuUsage, user +
 * system): on a shared machine 1000 / CPU-ms is what one core does, whatever the neighbours take.
 * It prints the measurements, then the BENCHMARKS.md row of this run (date, commit, command).
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { startService } from '../test/helpers/service.ts';
import { makeCsr, tlsAgent } from '../test/helpers/pki.ts';
import { parseCsr, authorizeNames, namePolicy } from '../src/pki/csr.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent } from '../src/sdk/index.ts';

const SECONDS = Number(process.env.BENCH_PKI_SECONDS ?? 4);
const WARMUP_SECONDS = Number(process.env.BENCH_PKI_WARMUP ?? 1);

interface Measurement {
  label: string;
  /** Column header in the BENCHMARKS.md row. */
  column: string;
  /** ops/s (wall) or ms/op (wall). */
  value: number;
  unit: 'ops/s' | 'ms/op';
  /** Process CPU time (user + system) per operation, ms. */
  cpuMs: number;
  count: number;
  seconds: number;
  concurrency: number;
}
const measured: Measurement[] = [];

async function loop(seconds: number, work: () => Promise<void>, concurrency: number): Promise<number> {
  const end = Date.now() + seconds * 1000;
  let count = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      await work();
      count += 1;
    }
  }));
  return count;
}

async function timed(label: string, column: string, unit: 'ops/s' | 'ms/op', work: () => Promise<void>, concurrency = 1): Promise<Measurement> {
  if (WARMUP_SECONDS > 0) await loop(WARMUP_SECONDS, work, concurrency);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const count = await loop(SECONDS, work, concurrency);
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const m: Measurement = { label, column, unit, value: unit === 'ops/s' ? count / elapsed : (elapsed * 1000) / count, cpuMs: (used.user + used.system) / 1000 / count, count, seconds: elapsed, concurrency };
  measured.push(m);
  return m;
}

const svc = await startService({ config: { pki: { trustDomain: 'bench.local', dnsSuffixes: ['bench.local'] } } });
const pki = svc.service.context.pki;
const authority = await pki.authority();
const csrs = await Promise.all(Array.from({ length: 200 }, () => makeCsr({ cn: 'orders', dns: ['orders.bench.local'] })));
const policy = namePolicy(svc.config.pki);
let i = 0;
const nextCsr = () => csrs[i++ % csrs.length]!.csr;

// 1. Issuance: the sign path alone, then with the database record + audit (pki.issue).
await timed('CA sign path: parse + verify CSR (asn1-csr + node:crypto), name policy, sign leaf', 'sign path/s', 'ops/s', async () => {
  const csr = await parseCsr(nextCsr());
  const names = authorizeNames(csr, { trustDomain: authority.trustDomain, service: 'orders' }, policy);
  await authority.signLeaf({ publicKeyInfo: csr.publicKeyInfo, spkiDer: csr.spkiDer, service: 'orders', ...names, ttlSeconds: 3600 });
});
await timed('CA issue: sign path + key check + certificate row + audit, one transaction (SQLite)', 'issue + row + audit/s', 'ops/s', async () => {
  await pki.issue({ csr: nextCsr(), service: 'orders', actor: 'bench' });
});

// 2. HTTP enrollment over the TLS listener (join token consumed + cert recorded per request).
const bundle = authority.bundlePem;
const tokens: string[] = [];
for (let n = 0; n < 20_000; n++) tokens.push((await pki.mintJoinToken({ service: 'orders', createdBy: 'bench' })).token);
const enrollAgent = tlsAgent(bundle);
let t = 0;
await timed('POST /pki/enroll over TLS (join token consumed, kept-alive, client in the same thread)', 'enroll/s', 'ops/s', async () => {
  const res = await request(`${svc.service.tlsUrl}/pki/enroll`, { method: 'POST', dispatcher: enrollAgent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: tokens[t++], csr: nextCsr() }) });
  if (res.statusCode !== 200) throw new Error(`enroll ${res.statusCode}: ${await res.body.text()}`);
  await res.body.dump();
}, 4);
await enrollAgent.close();

// 3. Handshakes: full mTLS (client cert requested, verified, our leaf checks on first request) vs plain TLS.
const server = await workloadIdentity({ caUrl: svc.service.tlsUrl!, service: 'catalog', joinToken: (await pki.mintJoinToken({ service: 'catalog', createdBy: 'bench' })).token });
const client = await workloadIdentity({ caUrl: svc.service.tlsUrl!, service: 'orders', joinToken: (await pki.mintJoinToken({ service: 'orders', createdBy: 'bench' })).token });
const creds = server.credentials();
const mtlsServer = createMtlsServer((_req, res) => res.end('ok'), { identity: server, allow: [{ spiffeId: client.spiffeId }] });
const tlsServer = createHttpsServer({ key: creds.key, cert: creds.cert }, (_req, res) => res.end('ok'));
const httpServer = createHttpServer((_req, res) => res.end('ok'));
const port = async (s: { listen: (p: number, h: string, cb: () => void) => unknown; address: () => unknown }) => {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return (s.address() as AddressInfo).port;
};
const mtlsPort = await port(mtlsServer);
const tlsPort = await port(tlsServer);
const httpPort = await port(httpServer);
const clientCreds = client.credentials();
const handshake = (p: number, withCert: boolean) => new Promise<void>((resolve, reject) => {
  const socket = tlsConnect({ port: p, host: '127.0.0.1', ca: clientCreds.ca, checkServerIdentity: () => undefined, ...(withCert ? { key: clientCreds.key, cert: clientCreds.cert } : {}), session: undefined });
  socket.once('secureConnect', () => { socket.end(); socket.destroy(); resolve(); });
  socket.once('error', reject);
});
await timed('full TLS handshake, server cert only (P-256)', 'TLS handshake ms', 'ms/op', () => handshake(tlsPort, false));
await timed('full mTLS handshake, client cert verified against the bundle', 'mTLS handshake ms', 'ms/op', () => handshake(mtlsPort, true));

// 4. Throughput over kept-alive connections.
const plainAgent = new Agent({ connections: 4 });
await timed('plain HTTP requests, kept-alive, 4 connections', 'plain HTTP/s', 'ops/s', async () => {
  const res = await request(`http://127.0.0.1:${httpPort}/`, { dispatcher: plainAgent });
  await res.body.dump();
}, 16);
const mtls = mtlsAgent(client, { expect: server.spiffeId, connections: 4 });
await timed('mTLS requests via createMtlsServer + mtlsAgent, kept-alive, 4 connections', 'mTLS requests/s', 'ops/s', async () => {
  const res = await request(`https://127.0.0.1:${mtlsPort}/`, { dispatcher: mtls });
  if (res.statusCode !== 200) throw new Error(`mtls ${res.statusCode}`);
  await res.body.dump();
}, 16);

await plainAgent.close();
await mtls.close();
for (const s of [mtlsServer, tlsServer, httpServer]) { s.closeAllConnections(); s.close(); }
await server.close();
await client.close();
await svc.close();

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
console.log(`\n## Internal CA and mTLS\n\nCommand: \`npm run bench -- pki\` (one process, one thread, pinned to one core, loopback, SQLite; ${WARMUP_SECONDS} s warm-up + ${SECONDS} s per row; CPU = this process's user + system time per operation)\n`);
console.log('| Measurement | Result | CPU ms/op | Count |');
console.log('|---|---:|---:|---|');
for (const m of measured) {
  const result = m.unit === 'ops/s' ? `${fmt(m.value)} ops/s` : `${fmt(m.value, 2)} ms`;
  console.log(`| ${m.label} | ${result} | ${fmt(m.cpuMs, 3)} | ${m.count} in ${m.seconds.toFixed(1)} s${m.concurrency > 1 ? `, ${m.concurrency} in flight` : ''} |`);
}

/** The commit measured: short hash, marked when the work tree has uncommitted changes. */
function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown';
  }
}

// The BENCHMARKS.md row of this run: rates with their CPU per operation (a rate from CPU time is
// 1000 / CPU ms), handshakes in ms. Append it to the table there.
const cell = (m: Measurement) => (m.unit === 'ops/s' ? `${fmt(m.value)} (${fmt(m.cpuMs, 2)})` : `${fmt(m.value, 2)} (${fmt(m.cpuMs, 2)})`);
console.log('\nBENCHMARKS.md row (`npm run bench -- pki`):\n');
console.log(`| date | commit | ${measured.map((m) => m.column).join(' | ')} |`);
console.log(`|---|---|${measured.map(() => '---:').join('|')}|`);
console.log(`| ${new Date().toISOString().slice(0, 10)} | ${commit()} | ${measured.map(cell).join(' | ')} |`);
