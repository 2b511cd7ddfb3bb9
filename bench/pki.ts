/**
 * Internal CA and mTLS benchmark (`npm exec -- node bench/pki.ts`, or through `npm run bench`).
 * Prints a markdown table. Every measurement is bounded in time (BENCH_PKI_SECONDS, default 4 s).
 * Everything runs in this one process on one thread (client and server share the core for the
 * HTTP measurements), on loopback, with the SQLite store.
 */
import 'reflect-metadata';
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
const rows: Array<[string, string, string]> = [];

async function timed(label: string, unit: 'ops/s' | 'ms/op', work: () => Promise<void>, concurrency = 1): Promise<number> {
  const end = Date.now() + SECONDS * 1000;
  let count = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      await work();
      count += 1;
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const value = unit === 'ops/s' ? count / elapsed : (elapsed * 1000) / count;
  rows.push([label, unit === 'ops/s' ? value.toFixed(0) : value.toFixed(2), `${unit} (${count} in ${elapsed.toFixed(1)} s${concurrency > 1 ? `, ${concurrency} in flight` : ''})`]);
  return value;
}

const svc = await startService({ config: { pki: { trustDomain: 'bench.local', dnsSuffixes: ['bench.local'] } } });
const pki = svc.service.context.pki;
const authority = await pki.authority();
const csrs = await Promise.all(Array.from({ length: 200 }, () => makeCsr({ cn: 'orders', dns: ['orders.bench.local'] })));
const policy = namePolicy(svc.config.pki);
let i = 0;
const nextCsr = () => csrs[i++ % csrs.length]!.csr;

// 1. Issuance: the sign path alone, then with the database record + audit (pki.issue).
await timed('CA sign path: parse + verify CSR, name policy, sign leaf', 'ops/s', async () => {
  const csr = await parseCsr(nextCsr());
  const names = authorizeNames(csr, { trustDomain: authority.trustDomain, service: 'orders' }, policy);
  await authority.signLeaf({ publicKeyInfo: csr.publicKeyInfo, service: 'orders', ...names, ttlSeconds: 3600 });
});
await timed('CA issue incl. certificate row + audit (SQLite)', 'ops/s', async () => {
  await pki.issue({ csr: nextCsr(), service: 'orders', actor: 'bench' });
});

// 2. HTTP enrollment over the TLS listener (join token consumed + cert recorded per request).
const bundle = authority.bundlePem;
const tokens: string[] = [];
for (let n = 0; n < 20_000; n++) tokens.push((await pki.mintJoinToken({ service: 'orders', createdBy: 'bench' })).token);
const enrollAgent = tlsAgent(bundle);
let t = 0;
await timed('POST /pki/enroll over TLS (kept-alive, client in the same process)', 'ops/s', async () => {
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
await timed('full TLS handshake, server cert only (P-256)', 'ms/op', () => handshake(tlsPort, false));
await timed('full mTLS handshake, client cert verified against the bundle', 'ms/op', () => handshake(mtlsPort, true));

// 4. Throughput over kept-alive connections.
const plainAgent = new Agent({ connections: 4 });
await timed('plain HTTP requests, kept-alive, 4 connections', 'ops/s', async () => {
  const res = await request(`http://127.0.0.1:${httpPort}/`, { dispatcher: plainAgent });
  await res.body.dump();
}, 16);
const mtls = mtlsAgent(client, { expect: server.spiffeId, connections: 4 });
await timed('mTLS requests via createMtlsServer + mtlsAgent, kept-alive, 4 connections', 'ops/s', async () => {
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

console.log(`\n## Internal CA and mTLS\n\nCommand: \`npm exec -- node bench/pki.ts\` (one process, one thread, loopback, SQLite; ${SECONDS} s per row)\n`);
console.log('| Measurement | Result | Unit |');
console.log('|---|---:|---|');
for (const [label, value, unit] of rows) console.log(`| ${label} | ${value} | ${unit} |`);
