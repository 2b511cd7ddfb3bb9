/**
 * The CA's TLS listener renews its own certificate at two thirds of its life; when issuing
 * fails it backs off (retryDelay) instead of retrying every second, and once it succeeds new
 * handshakes see the new certificate. Its stop is bounded by shutdownTimeout.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:tls';
import { silentLogger } from '../shared/logger.ts';
import { normalizeSerial } from '../x509/index.ts';
import { systemClock } from '../shared/clock.ts';
import { createAuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import { createPki, createPkiTlsListener, type Pki, type ServerCredentials } from './index.ts';

let closeStore: () => Promise<void>;
let pki: Pki;

before(async () => {
  const opened = await openTestStore();
  closeStore = opened.close;
  const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', pki: { trustDomain: 'td.test' } });
  pki = createPki({ store: opened.store, audit: createAuditLog(opened.store.db), config: config.pki, masterKey: randomBytes(32), clock: systemClock, logger: silentLogger() });
  await pki.ensureInitialized();
});
after(async () => {
  await closeStore();
});

function presentedSerial(url: string, ca: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, checkServerIdentity: () => undefined }, () => {
      resolve(normalizeSerial(socket.getPeerCertificate().serialNumber));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('ok: a failing renewal of the listener\'s own certificate backs off, then the new certificate is served', async () => {
  const calls: number[] = [];
  let last: ServerCredentials | undefined;
  const FAILURES = 4;
  const flaky: Pki = Object.create(pki, {
    issueOwn: {
      value: async (...args: Parameters<Pki['issueOwn']>) => {
        calls.push(Date.now());
        if (calls.length === 1) {
          // The first certificate claims to be near its end: renewal is due at once.
          const now = Math.floor(Date.now() / 1000);
          return { ...(await pki.issueOwn(...args)), notBefore: now - 10, notAfter: now + 1 };
        }
        if (calls.length <= 1 + FAILURES) throw new Error('store unavailable');
        last = await pki.issueOwn(...args);
        return last;
      },
    },
  });
  const listener = await createPkiTlsListener(flaky, { logger: silentLogger(), bodyLimit: 65_536, serverNames: ['localhost'], shutdownTimeout: 10, retry: { initialDelay: 40, maxDelay: 160, jitter: 'none' } });
  try {
    const url = await listener.listen('127.0.0.1', 0);
    const deadline = Date.now() + 5000;
    while (!last && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(last, `renewed after ${calls.length - 1} attempts`);
    // Attempts 2..6: the gaps after each failure follow 40, 80, 160, 160 ms (not a fixed 1 s).
    const gaps = calls.slice(2).map((at, i) => at - calls[i + 1]!);
    assert.equal(gaps.length, FAILURES);
    const expected = [40, 80, 160, 160];
    gaps.forEach((gap, i) => assert.ok(gap >= expected[i]! - 5 && gap < expected[i]! + 400, `gap ${i}: ${gap} ms, expected ≈ ${expected[i]} (all: ${gaps})`));
    assert.equal(await presentedSerial(url, (await pki.authority()).bundlePem), normalizeSerial(last.serial), 'new handshakes see the renewed certificate');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(calls.length, 2 + FAILURES, 'after a success the next renewal waits for two thirds of the new lifetime');
  } finally {
    await listener.close();
  }
});

/** Resolves with the negotiated protocol, or the error code of a refused handshake. */
function handshake(url: string, version: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false, minVersion: version, maxVersion: version }, () => {
      resolve(String(socket.getProtocol()));
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

test('fail-tls12: the PKI TLS listener refuses a TLS 1.2-only client and speaks TLS 1.3', async () => {
  const listener = await createPkiTlsListener(pki, { logger: silentLogger(), bodyLimit: 65_536, serverNames: ['localhost'], shutdownTimeout: 10 });
  try {
    const url = await listener.listen('127.0.0.1', 0);
    assert.match(await handshake(url, 'TLSv1.2'), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
    assert.equal(await handshake(url, 'TLSv1.3'), 'TLSv1.3');
  } finally {
    await listener.close();
  }
});

test('ok: a request still in flight at shutdownTimeout has its connection cut, and the listener\'s stop ends', async () => {
  const listener = await createPkiTlsListener(pki, { logger: silentLogger(), bodyLimit: 65_536, serverNames: ['localhost'], shutdownTimeout: 1 });
  let closing: Promise<void> | undefined;
  try {
    const { hostname, port } = new URL(await listener.listen('127.0.0.1', 0));
    const socket = connect({ host: hostname, port: Number(port), ca: (await pki.authority()).bundlePem, checkServerIdentity: () => undefined });
    socket.on('error', () => { /* cut: seen through 'close' */ });
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    // A body announced and never sent: without a deadline the stop would wait for it for ever.
    socket.write(`POST /pki/enroll HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"csr":`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    closing = listener.close();
    await closing;
    const took = Date.now() - started;
    assert.ok(took >= 900 && took < 5000, `the stop took ${took} ms`);
    await ended;
  } finally {
    await (closing ?? listener.close());
  }
});
