/**
 * CA lifecycle on one store shared by two CA instances (a running service and the CLI):
 * root rotation in phases, intermediate-only rotation, retired CAs dropped once their leaves
 * expire, the offline root never re-signed by a running instance, import with the root
 * offline, and the CA's own service name reserved.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore, type Store } from '../store/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { frozenClock } from '../shared/clock.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { x509, parseCertificates } from '../x509/index.ts';
import { sha256Hex } from '../shared/random.ts';
import { createPki, RESERVED_SERVICE, type Pki } from './index.ts';
import { RETIRED_GRACE_SECONDS } from './rotation.ts';
import { makeCsr, foreignCa } from '../../test/helpers/pki.ts';
import { craftIntermediate, craftRootCrl } from '../../test/helpers/pki-import.ts';

let dir: string;
const clock = frozenClock(Date.now());
const masterKey = randomBytes(32);
const config = configSchema.parse({ pki: { trustDomain: 'td.test', leafTtl: '1h', maxLeafTtl: '2h', crlTtl: '10m', caCheckInterval: '5s' } }).pki;
const stores: Store[] = [];

/** A CA instance over the store in `name` (a second call opens a second connection to the same store, as another process would). */
async function instance(name: string): Promise<{ store: Store; pki: Pki }> {
  const store = openStore({ dataDir: join(dir, name) });
  stores.push(store);
  await store.migrate();
  return { store, pki: createPki({ store, audit: createAuditLog(store.db, clock), config, masterKey, clock, logger: silentLogger() }) };
}

before(() => { dir = mkdtempSync(join(tmpdir(), 'gh-pki-rotation-')); });
after(async () => {
  for (const s of stores) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const codeOf = async (work: () => Promise<unknown>) => {
  try { await work(); return undefined; } catch (error) { return isGatehouseError(error) ? error.code : (error as Error).message; }
};
const issuerOf = async (pki: Pki, service = 'orders', ttl?: number) => {
  const issued = await pki.issue({ csr: (await makeCsr()).csr, service, actor: 'test', ...(ttl ? { ttl } : {}) });
  return { issued, issuer: parseCertificates(issued.certificate)[1]! };
};
const crlsOf = (pem: string) => x509.PemConverter.decode(pem).map((der) => new x509.X509Crl(der));
const recheck = () => clock.advance(config.caCheckInterval * 1000);

test('ok: root rotation in phases — next root published first, then activated; the old chain stays trusted until its leaves expire', async () => {
  const { pki: service } = await instance('rotation');
  const { pki: cli } = await instance('rotation');
  const before = await service.ensureInitialized();
  const { issued: oldLeaf, issuer: oldIntermediate } = await issuerOf(service);

  // prepare (by "the CLI"): both roots in the bundle; nothing signed by the new chain yet.
  const prepared = await cli.rotate('prepare', 'test');
  assert.equal(prepared.created.length, 2);
  assert.equal(await codeOf(() => cli.rotate('prepare', 'test')), 'conflict');
  assert.equal(await codeOf(() => cli.rotate('intermediate', 'test')), 'conflict');
  assert.equal(parseCertificates((await service.authority()).bundlePem).length, 1, 'cached until the next check');
  recheck();
  const during = await service.authority();
  assert.equal(parseCertificates(during.bundlePem).length, 2, 'the running service picked up the rotation');
  assert.equal(parseCertificates(during.intermediatesPem).length, 2);
  assert.equal(during.rootFingerprint, before.authority.rootFingerprint, 'tokens still pin the active root');
  assert.equal((await issuerOf(service)).issuer.subject, oldIntermediate.subject, 'leaves still come from the active chain');
  for (const kind of ['root', 'intermediate'] as const) {
    const crls = crlsOf((await service.crl(kind)).pem);
    assert.equal(crls.length, 2, `${kind}.crl holds the CRL of each trusted ${kind}`);
    const issuers = during.trusted.filter((c) => c.kind === kind);
    for (const crl of crls) assert.ok(await crl.verify({ publicKey: issuers.find((c) => c.cert.subject === crl.issuer)!.cert.publicKey }));
  }

  // activate: new leaves from the new intermediate; the old root stays in the bundle.
  await cli.rotate('activate', 'test');
  assert.equal(await codeOf(() => cli.rotate('activate', 'test')), 'conflict');
  recheck();
  const after = await service.authority();
  assert.equal(after.root.id, prepared.created[0]);
  assert.equal(after.intermediate.id, prepared.created[1]);
  const { issuer: newIntermediate } = await issuerOf(service);
  assert.equal(newIntermediate.subject, after.intermediate.cert.subject);
  assert.notEqual(newIntermediate.subject, oldIntermediate.subject);
  assert.equal(parseCertificates(after.bundlePem).length, 2);
  assert.notEqual((await service.mintJoinToken({ service: 'orders', createdBy: 'test' })).rootFingerprint, before.authority.rootFingerprint, 'new tokens pin the new root');

  // Revoking an old-chain leaf: listed in a CRL signed by the retired intermediate.
  await service.revoke({ serial: oldLeaf.serial, actor: 'test' });
  const oldCrl = crlsOf((await service.crl('intermediate')).pem).find((c) => c.issuer === oldIntermediate.subject)!;
  assert.ok(await oldCrl.verify({ publicKey: oldIntermediate.publicKey }));
  assert.ok(oldCrl.entries.some((e) => e.serialNumber.replace(/^0+/, '') === oldLeaf.serial));

  // Once every old-chain leaf has expired (and the grace period passed), the old chain is dropped.
  assert.equal((await service.status()).bundleRoots, 2);
  clock.advance(2 * 3600_000 + RETIRED_GRACE_SECONDS * 1000);
  const status = await cli.status();
  assert.equal(status.bundleRoots, 1);
  assert.deepEqual(status.cas.map((c) => `${c.kind}:${c.status}`).sort(), ['intermediate:active', 'root:active']);
  recheck();
  const pruned = await service.authority();
  assert.equal(parseCertificates(pruned.bundlePem).length, 1);
  assert.equal(crlsOf((await service.crl('intermediate')).pem).length, 1);
  const dropped = await stores[0]!.db.selectFrom('ca_certificates').selectAll().where('status', '=', 'retired').execute();
  assert.equal(dropped.length, 2);
  for (const row of dropped) {
    assert.equal(row.key_enc, null, 'a dropped CA keeps no key');
    assert.notEqual(row.dropped_at, null);
  }
});

test('ok: intermediate-only rotation under the same root; a retired intermediate still signs the revocation of its leaves', async () => {
  const { pki } = await instance('intermediate');
  const first = await pki.ensureInitialized();
  const { issued: oldLeaf, issuer: oldIntermediate } = await issuerOf(pki);
  const rotated = await pki.rotate('intermediate', 'test');
  assert.equal(rotated.retired[0], first.authority.intermediate.id);
  const a = await pki.authority();
  assert.equal(a.root.id, first.authority.root.id);
  assert.equal(parseCertificates(a.bundlePem).length, 1);
  assert.equal(parseCertificates(a.intermediatesPem).length, 2);
  const { issuer } = await issuerOf(pki);
  assert.equal(issuer.subject, a.intermediate.cert.subject);
  assert.ok(await issuer.verify({ publicKey: a.root.cert.publicKey, signatureOnly: true }));
  const result = await pki.revoke({ serial: oldLeaf.serial, actor: 'test' });
  assert.deepEqual(result.serials, [oldLeaf.serial]);
  const crls = crlsOf((await pki.crl('intermediate')).pem);
  assert.equal(crls.length, 2);
  const oldCrl = crls.find((c) => c.issuer === oldIntermediate.subject)!;
  assert.ok(await oldCrl.verify({ publicKey: oldIntermediate.publicKey }));
  assert.ok(oldCrl.entries.some((e) => e.serialNumber.replace(/^0+/, '') === oldLeaf.serial));
  const newCrl = crls.find((c) => c.issuer === a.intermediate.cert.subject)!;
  assert.equal(newCrl.entries.length, 0, 'each intermediate lists only its own leaves');
});

test('fail-root-offline: an intermediate rotation needs the root key', async () => {
  const { pki } = await instance('intermediate-offline');
  await pki.ensureInitialized();
  await pki.takeRootOffline('test', () => {});
  assert.equal(await codeOf(() => pki.rotate('intermediate', 'test')), 'conflict');
});

test('fail-offline-root-resign: a running instance never re-signs the root CRL once another took the root offline', async () => {
  const { pki: service } = await instance('offline');
  const { pki: cli } = await instance('offline');
  await service.ensureInitialized();
  assert.ok((await service.authority()).root.key, 'the running service holds the root key');
  const offlineAt = Math.floor(clock.now() / 1000);
  await cli.takeRootOffline('test', () => {});
  const last = await cli.crl('root');
  assert.equal(last.nextUpdate, offlineAt + config.offlineRootCrlTtl, 'the last root CRL lasts pki.offlineRootCrlTtl');
  // Past half the CRL lifetime the service re-signs what is due — not the root's CRL.
  clock.advance((config.crlTtl / 2 + 1) * 1000);
  assert.deepEqual(await service.refreshCrls(), ['intermediate']);
  const root = await service.crl('root');
  assert.equal(root.number, last.number);
  assert.equal(root.nextUpdate, last.nextUpdate);
  assert.equal((await service.authority()).root.key, undefined, 'the cached root key was dropped');
});

test('ok: import with the root key offline needs the root CRL, and serves it', async () => {
  const root = await foreignCa('CN=Offline Root');
  const intermediate = await craftIntermediate(root);
  const { pki } = await instance('import-offline');
  const request = { rootPem: root.pem, intermediatePem: intermediate.pem, intermediateKeyPem: intermediate.keyPem };
  assert.equal(await codeOf(() => pki.importAuthority(request, 'test')), 'invalid_request');
  assert.equal(await codeOf(async () => pki.importAuthority({ ...request, rootCrl: await craftRootCrl(await foreignCa('CN=Offline Root')) }, 'test')), 'invalid_request', 'a CRL the root did not sign');
  assert.equal(await codeOf(async () => pki.importAuthority({ ...request, rootCrl: await craftRootCrl(root, { nextUpdate: new Date(Date.now() - 1000) }) }, 'test')), 'invalid_request', 'an expired CRL');
  const rootCrl = await craftRootCrl(root);
  await pki.importAuthority({ ...request, rootCrl }, 'test');
  assert.equal((await pki.crl('root')).pem, rootCrl);
  assert.equal(crlsOf((await pki.crl('intermediate')).pem).length, 1);
});

test('fail-reserved-service: the CA\'s own identity is never minted, issued or enrolled', async () => {
  const { store, pki } = await instance('reserved');
  await pki.ensureInitialized();
  assert.equal(RESERVED_SERVICE, 'gatehouse');
  assert.equal(await codeOf(() => pki.mintJoinToken({ service: RESERVED_SERVICE, createdBy: 'test' })), 'identity_not_allowed');
  assert.equal(await codeOf(async () => pki.issue({ csr: (await makeCsr({ cn: RESERVED_SERVICE })).csr, service: RESERVED_SERVICE, actor: 'test' })), 'identity_not_allowed');
  // A token for the reserved name that exists anyway (minted before this rule) enrolls nothing.
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const now = Math.floor(clock.now() / 1000);
  await store.db.insertInto('join_tokens').values({ id, digest: sha256Hex(secret), service: RESERVED_SERVICE, expires_at: now + 600, used_at: null, created_by: 'test', created_at: now }).execute();
  const token = `ghjt.${id}.${secret}.${(await pki.authority()).rootFingerprint}`;
  assert.equal(await codeOf(async () => pki.enroll({ token, csr: (await makeCsr({ cn: RESERVED_SERVICE })).csr })), 'identity_not_allowed');
  const issued = await store.db.selectFrom('certificates').select('serial').where('service', '=', RESERVED_SERVICE).execute();
  assert.deepEqual(issued, [], 'nothing issued to the reserved name');
  const refusal = (await createAuditLog(store.db, clock).list({ event: 'enrollment.refused' })).at(-1)!;
  assert.equal(refusal.reason, 'identity_not_allowed');
  assert.equal(refusal.subject, RESERVED_SERVICE);
});
