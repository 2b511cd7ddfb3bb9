import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../store/index.ts';
import { createAuditLog, type AuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { frozenClock } from '../shared/clock.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { x509, parseCertificates, certificatesToPem, normalizeSerial, checkLeaf } from '../x509/index.ts';
import { createPki, crlNumberOf, type Pki } from './index.ts';
import { makeCsr, foreignCa } from '../../test/helpers/pki.ts';
import { craftIntermediate, craftRootCrl } from '../../test/helpers/pki-import.ts';
import type { EventBus, SecurityEvent } from '../events/types.ts';

let dir: string;
let store: Store;
let audit: AuditLog;
let pki: Pki;
const clock = frozenClock(Date.now());
const masterKey = randomBytes(32);
const config = configSchema.parse({ pki: { trustDomain: 'td.test', leafTtl: '1h', maxLeafTtl: '2h', maxJoinTokenTtl: '1h', crlTtl: '10m', dnsSuffixes: ['local'], allowLoopbackNames: true } }).pki;
const published: SecurityEvent[] = [];
const events: EventBus = {
  publish: async (event) => { published.push(event); return { seq: published.length, id: 'x', event, set: '', issuedAt: 0 }; },
  subscribe: () => () => {},
  close: async () => {},
};

async function freshPki(name: string): Promise<{ store: Store; pki: Pki }> {
  const s = openStore({ dataDir: join(dir, name) });
  await s.migrate();
  return { store: s, pki: createPki({ store: s, audit: createAuditLog(s.db, clock), config, masterKey, clock, logger: silentLogger(), events }) };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-pki-'));
  store = openStore({ dataDir: dir });
  await store.migrate();
  audit = createAuditLog(store.db, clock);
  pki = createPki({ store, audit, config, masterKey, clock, logger: silentLogger(), events });
  assert.equal((await pki.ensureInitialized()).created, true);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = async (work: () => Promise<unknown>) => {
  try { await work(); return undefined; } catch (error) { return isGatehouseError(error) ? error.code : (error as Error).message; }
};

test('ok: init is idempotent and keys are sealed at rest', async () => {
  assert.equal((await pki.ensureInitialized()).created, false);
  const rows = await store.db.selectFrom('ca_certificates').selectAll().execute();
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.match(row.key_enc!, /^v2\.[0-9a-f]{16}\./);
    assert.doesNotMatch(row.key_enc!, /PRIVATE KEY/);
  }
});

test('ok: the chain verifies and the leaf has exactly our profile', async () => {
  const a = await pki.authority();
  assert.ok(await a.intermediate.cert.verify({ publicKey: a.root.cert.publicKey, signatureOnly: true }));
  const { csr } = await makeCsr({ cn: 'orders', dns: ['orders.local'], ips: ['127.0.0.2'] });
  const issued = await pki.issue({ csr, service: 'orders', actor: 'test' });
  const [leaf, intermediate] = parseCertificates(issued.certificate);
  assert.equal(intermediate!.subject, a.intermediate.cert.subject);
  assert.ok(await leaf!.verify({ publicKey: a.intermediate.cert.publicKey, signatureOnly: true }));
  const basic = leaf!.getExtension(x509.BasicConstraintsExtension)!;
  assert.equal(basic.ca, false);
  assert.equal(basic.critical, true);
  const ku = leaf!.getExtension(x509.KeyUsagesExtension)!;
  assert.equal(ku.usages, x509.KeyUsageFlags.digitalSignature);
  assert.equal(ku.critical, true);
  assert.deepEqual([...leaf!.getExtension(x509.ExtendedKeyUsageExtension)!.usages], [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
  const names = leaf!.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON();
  assert.deepEqual(names, [{ type: 'url', value: 'spiffe://td.test/svc/orders' }, { type: 'dns', value: 'orders.local' }, { type: 'ip', value: '127.0.0.2' }]);
  assert.equal(leaf!.getExtension(x509.AuthorityKeyIdentifierExtension)!.keyId, a.intermediate.keyId);
  assert.ok(leaf!.getExtension(x509.SubjectKeyIdentifierExtension));
  assert.equal(normalizeSerial(leaf!.serialNumber), issued.serial, 'the recorded serial is the certificate\'s');
  assert.ok(issued.serial.length >= 16 && issued.serial.length <= 40, 'serial of 64 to 160 bits');
  assert.ok(parseInt(leaf!.serialNumber.slice(0, 2), 16) < 0x80, 'positive serial');
  assert.equal(leaf!.notAfter.getTime() / 1000, Math.floor(clock.now() / 1000) + 3600, 'default lifetime pki.leafTtl');
  const check = checkLeaf(leaf!, { trustDomain: 'td.test', usage: 'clientAuth', now: clock.now() });
  assert.equal(check.ok, true);
  const row = await store.db.selectFrom('certificates').selectAll().where('serial', '=', issued.serial).executeTakeFirstOrThrow();
  assert.equal(row.service, 'orders');
  assert.equal(row.requested_by, 'test');
  assert.deepEqual(JSON.parse(row.sans), { dns: ['orders.local'], ips: ['127.0.0.2'] });
});

test('ok: a requested lifetime is honoured when shorter and capped by maxLeafTtl', async () => {
  const short = await pki.issue({ csr: (await makeCsr()).csr, service: 'orders', ttl: 600, actor: 'test' });
  assert.equal(short.notAfter - Math.floor(clock.now() / 1000), 600);
  const long = await pki.issue({ csr: (await makeCsr()).csr, service: 'orders', ttl: 10 * 86400, actor: 'test' });
  assert.equal(long.notAfter - Math.floor(clock.now() / 1000), 7200);
});

test('ok: join tokens are one-time, digest-only, bound to the service and capped', async () => {
  const minted = await pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
  const row = await store.db.selectFrom('join_tokens').selectAll().where('id', '=', minted.id).executeTakeFirstOrThrow();
  assert.equal(row.digest.length, 64);
  assert.ok(!minted.token.includes(row.digest));
  assert.equal(minted.rootFingerprint, (await pki.authority()).rootFingerprint);
  assert.equal(await codeOf(() => pki.mintJoinToken({ service: 'orders', ttlSeconds: 7200, createdBy: 'test' })), 'invalid_request');
  const first = await pki.enroll({ token: minted.token, csr: (await makeCsr({ cn: 'orders' })).csr });
  assert.equal(first.service, 'orders');
  assert.equal(await codeOf(async () => pki.enroll({ token: minted.token, csr: (await makeCsr()).csr })), 'invalid_join_token');
  const entries = await audit.list({ event: 'join_token.created' });
  assert.ok(entries.some((e) => e.subject === 'orders'));
});

test('fail-expired-token: an expired token issues nothing and is audited', async () => {
  const minted = await pki.mintJoinToken({ service: 'orders', ttlSeconds: 60, createdBy: 'test' });
  clock.advance(61_000);
  const before = await store.db.selectFrom('certificates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(await codeOf(async () => pki.enroll({ token: minted.token, csr: (await makeCsr()).csr })), 'invalid_join_token');
  const afterCount = await store.db.selectFrom('certificates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  assert.equal(Number(afterCount.n), Number(before.n));
  const refused = await audit.list({ event: 'enrollment.refused' });
  assert.equal(refused.at(-1)!.reason, 'token_expired');
});

test('fail-refused-csr-burns-token: a CSR for another identity is refused and the token is spent', async () => {
  const minted = await pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
  assert.equal(await codeOf(async () => pki.enroll({ token: minted.token, csr: (await makeCsr({ uris: ['spiffe://td.test/svc/payments'] })).csr })), 'identity_not_allowed');
  assert.equal(await codeOf(async () => pki.enroll({ token: minted.token, csr: (await makeCsr()).csr })), 'invalid_join_token');
  const reasons = (await audit.list({ event: 'enrollment.refused' })).slice(-2).map((e) => e.reason);
  assert.deepEqual(reasons, ['identity_not_allowed', 'token_used']);
});

test('ok: revocation lists the serial in a new signed CRL with a higher cRLNumber and publishes an event', async () => {
  const a = await pki.authority();
  const before = await pki.crl('intermediate');
  const issued = await pki.issue({ csr: (await makeCsr()).csr, service: 'billing', actor: 'test' });
  const result = await pki.revoke({ service: 'billing', reason: 'keyCompromise', actor: 'test' });
  assert.deepEqual(result.serials, [issued.serial]);
  const after = await pki.crl('intermediate');
  assert.match(after.pem, /^-----BEGIN X509 CRL-----/);
  const crl = new x509.X509Crl(x509.PemConverter.decodeFirst(after.pem));
  assert.ok(await crl.verify({ publicKey: a.intermediate.cert.publicKey }));
  assert.equal(crlNumberOf(crl), before.number + 1);
  assert.equal(crl.nextUpdate!.getTime() - crl.thisUpdate.getTime(), 600_000);
  assert.ok(crl.entries.some((e) => e.serialNumber.replace(/^0+/, '') === issued.serial));
  assert.deepEqual(published.at(-1), { type: 'certificate.revoked', serials: [issued.serial], service: 'billing', until: issued.notAfter, reason: 'keyCompromise' });
  assert.equal((await audit.list({ event: 'cert.revoked' })).at(-1)!.subject, issued.serial);
  assert.equal(await codeOf(() => pki.revoke({ serial: issued.serial, actor: 'test' })), 'not_found');
});

test('ok: CRLs are re-signed at half their lifetime, not before', async () => {
  const start = await pki.crl('root');
  assert.deepEqual(await pki.refreshCrls(), []);
  clock.advance(301_000);
  assert.deepEqual(await pki.refreshCrls(), ['root', 'intermediate']);
  assert.equal((await pki.crl('root')).number, start.number + 1);
});

test('ok: --offline-root exports the root key and leaves only the intermediate online', async () => {
  const { store: s, pki: p } = await freshPki('offline');
  try {
    await p.ensureInitialized();
    let pem = '';
    await p.takeRootOffline('test', (exported) => { pem = exported; });
    assert.match(pem, /BEGIN PRIVATE KEY/);
    const root = await s.db.selectFrom('ca_certificates').selectAll().where('kind', '=', 'root').executeTakeFirstOrThrow();
    assert.equal(root.key_enc, null);
    assert.equal((await p.authority()).root.key, undefined);
    // Issuing still works (the intermediate signs), and the last root CRL lasts pki.offlineRootCrlTtl.
    await p.issue({ csr: (await makeCsr()).csr, service: 'orders', actor: 'test' });
    assert.equal((await p.crl('root')).nextUpdate, Math.floor(clock.now() / 1000) + config.offlineRootCrlTtl);
    assert.equal(config.offlineRootCrlTtl, 180 * 86400);
    assert.equal(await codeOf(() => p.takeRootOffline('test', () => {})), 'conflict');
  } finally {
    await s.close();
  }
});

test('fail-keep: when the root key cannot be kept (the file write failed), it stays in the store and nothing is audited', async () => {
  const { store: s, pki: p } = await freshPki('offline-failed-write');
  try {
    await p.ensureInitialized();
    await assert.rejects(p.takeRootOffline('test', () => { throw new Error('ENOSPC'); }), /ENOSPC/);
    const root = await s.db.selectFrom('ca_certificates').selectAll().where('kind', '=', 'root').executeTakeFirstOrThrow();
    assert.notEqual(root.key_enc, null);
    assert.ok((await p.authority({ fresh: true })).root.key);
    assert.equal((await s.db.selectFrom('audit_log').select('event').where('event', '=', 'ca.key_exported').execute()).length, 0);
  } finally {
    await s.close();
  }
});

test('ok: taking the root offline is audited as ca.key_exported, not ca.initialized', async () => {
  const { store: s, pki: p } = await freshPki('offline-audit');
  try {
    await p.ensureInitialized();
    await p.takeRootOffline('test', () => {});
    const events = await s.db.selectFrom('audit_log').select(['event', 'subject', 'reason']).orderBy('seq').execute();
    const root = await s.db.selectFrom('ca_certificates').select('id').where('kind', '=', 'root').executeTakeFirstOrThrow();
    assert.deepEqual(events.map((e) => e.event), ['ca.initialized', 'ca.key_exported']);
    assert.deepEqual({ ...events[1] }, { event: 'ca.key_exported', subject: root.id, reason: 'root_key_exported' });
  } finally {
    await s.close();
  }
});

test('ok: an existing root and intermediate can be imported; a mismatched key cannot', async () => {
  const root = await foreignCa('CN=Imported Root');
  const intermediate = await craftIntermediate(root);
  const other = await craftIntermediate(root);
  const rootCrl = await craftRootCrl(root);
  const { store: s, pki: p } = await freshPki('import');
  try {
    assert.equal(await codeOf(() => p.importAuthority({ rootPem: root.pem, intermediatePem: intermediate.pem, intermediateKeyPem: other.keyPem, rootCrl }, 'test')), 'invalid_request');
    const a = await p.importAuthority({ rootPem: root.pem, intermediatePem: intermediate.pem, intermediateKeyPem: intermediate.keyPem, rootCrl }, 'test');
    assert.equal(a.root.cert.subject, 'CN=Imported Root');
    assert.equal(a.root.key, undefined);
    const issued = await p.issue({ csr: (await makeCsr()).csr, service: 'orders', actor: 'test' });
    const [leaf] = parseCertificates(issued.certificate);
    assert.ok(await leaf!.verify({ publicKey: intermediate.cert.publicKey, signatureOnly: true }));
    assert.equal(await codeOf(() => p.importAuthority({ rootPem: root.pem, intermediatePem: intermediate.pem, intermediateKeyPem: intermediate.keyPem, rootCrl }, 'test')), 'conflict');
    assert.equal((await p.crl('root')).pem, rootCrl, 'the imported root CRL is served as given');
    assert.equal(certificatesToPem([a.root.cert]), a.bundlePem);
  } finally {
    await s.close();
  }
});
