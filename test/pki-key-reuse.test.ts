/**
 * One key, one identity: the CA refuses a CSR carrying one of its own keys, a key already
 * certified for another service, or the key of a revoked certificate — over the real enrollment
 * endpoint and through direct issue, on SQLite and PostgreSQL — and certificates issued before
 * the key was recorded get it filled in by the migration.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import type { Agent } from 'undici';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { Kysely } from 'kysely';
import { Migrator } from 'kysely/migration';
import { x509 } from '../src/x509/index.ts';
import { isGatehouseError } from '../src/shared/errors.ts';
import { openStore } from '../src/store/index.ts';
import { migrations } from '../src/store/migrations/index.ts';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { makeCsr, foreignCa, craftLeaf, tlsAgent, postJson } from './helpers/pki.ts';
import type { Pki } from '../src/pki/index.ts';

type KeyPair = webcrypto.CryptoKeyPair;
const newKeys = (): Promise<KeyPair> => webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);

await forEachDialect('pki: one key, one identity', (dialect) => {
  let svc: TestService;
  let pki: Pki;
  let anonymous: Agent;

  before(async () => {
    svc = await startService({ dialect, config: { pki: { trustDomain: 'td.test' } } });
    pki = svc.service.context.pki;
    anonymous = tlsAgent((await pki.authority()).bundlePem);
  });
  after(async () => {
    await anonymous.close();
    await svc.close();
  });

  const token = async (service: string) => (await pki.mintJoinToken({ service, createdBy: 'test' })).token;
  const enroll = async (service: string, keys: KeyPair) => postJson(`${svc.service.tlsUrl}/pki/enroll`, { token: await token(service), csr: (await makeCsr({ cn: service, keys })).csr }, anonymous);
  const issuedCount = async () => Number((await svc.service.context.store.db.selectFrom('certificates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const lastRefusal = async () => (await svc.service.context.audit.list({ event: 'enrollment.refused' })).at(-1)!;

  test('fail-key-reused: a key certified for orders is refused for catalog (403 key_not_allowed), nothing issued, audited key_reused', async () => {
    const keys = await newKeys();
    assert.equal((await enroll('orders', keys)).status, 200);
    const count = await issuedCount();
    const res = await enroll('catalog', keys);
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'key_not_allowed');
    assert.equal(res.body.reason, 'key_reused');
    assert.doesNotMatch(JSON.stringify(res.body), /orders/, 'the other service is not revealed');
    assert.equal(await issuedCount(), count);
    const refusal = await lastRefusal();
    assert.equal(refusal.reason, 'key_reused');
    assert.equal(refusal.subject, 'catalog');
    assert.match(String((refusal.data as { detail: string }).detail), /already certified for service orders/);
  });

  test('ok: the same key may be certified again for the same service', async () => {
    const keys = await newKeys();
    assert.equal((await enroll('orders', keys)).status, 200);
    assert.equal((await enroll('orders', keys)).status, 200);
  });

  test('fail-key-revoked: once its certificate is revoked, the key is refused even for the same service', async () => {
    const keys = await newKeys();
    const first = await enroll('payments', keys);
    await pki.revoke({ serial: first.body.serial as string, reason: 'keyCompromise', actor: 'test' });
    const res = await enroll('payments', keys);
    assert.equal(res.status, 403);
    assert.equal(res.body.reason, 'key_revoked');
    assert.equal((await lastRefusal()).reason, 'key_revoked');
  });

  test('fail-ca-key: a CSR carrying the intermediate\'s or the root\'s own key is refused (enrollment and direct issue)', async () => {
    const a = await pki.authority();
    for (const ca of [a.intermediate, a.root]) {
      const keys = { privateKey: ca.key!, publicKey: (await ca.cert.publicKey.export()) as unknown as webcrypto.CryptoKey };
      const csr = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=orders', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } })).toString('pem');
      const res = await postJson(`${svc.service.tlsUrl}/pki/enroll`, { token: await token('orders'), csr }, anonymous);
      assert.equal(res.status, 403, ca.kind);
      assert.equal(res.body.reason, 'ca_key', ca.kind);
      assert.equal((await lastRefusal()).reason, 'ca_key');
      await assert.rejects(pki.issue({ csr, service: 'orders', actor: 'test' }), (error) => isGatehouseError(error) && error.code === 'key_not_allowed');
    }
  });

  test('fail-direct-issue-reused: `ca issue` refuses a key certified for another service', async () => {
    const keys = await newKeys();
    await pki.issue({ csr: (await makeCsr({ cn: 'orders', keys })).csr, service: 'orders', actor: 'test' });
    await assert.rejects(pki.issue({ csr: (await makeCsr({ cn: 'catalog', keys })).csr, service: 'catalog', actor: 'test' }), (error) => isGatehouseError(error) && error.code === 'key_not_allowed' && error.extensions?.reason === 'key_reused');
  });

  test('fail-renew-reused: renewal into a key another service holds is refused', async () => {
    const held = await newKeys();
    assert.equal((await enroll('catalog', held)).status, 200);
    const orders = await makeCsr({ cn: 'orders' });
    const current = await postJson(`${svc.service.tlsUrl}/pki/enroll`, { token: await token('orders'), csr: orders.csr }, anonymous);
    const client = tlsAgent((await pki.authority()).bundlePem, { key: orders.keyPem, cert: current.body.certificate as string });
    try {
      const res = await postJson(`${svc.service.tlsUrl}/pki/renew`, { csr: (await makeCsr({ cn: 'orders', keys: held })).csr }, client);
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'key_not_allowed');
      assert.equal((await lastRefusal()).reason, 'key_reused');
    } finally {
      await client.close();
    }
  });

  test('ok: certificates issued before keys were recorded get their key digest from the migration', async () => {
    const database = dialect === 'postgres' ? await createTestDatabase() : undefined;
    const dir = mkdtempSync(join(tmpdir(), 'gh-spki-migration-'));
    const store = openStore({ url: database?.url, dataDir: dir });
    try {
      const { error } = await new Migrator({ db: store.db, provider: migrations(store.dialect) }).migrateTo('0007_verification_keys');
      assert.equal(error, undefined);
      const leaf = await craftLeaf(await foreignCa(), { uris: ['spiffe://td.test/svc/orders'] });
      await (store.db as unknown as Kysely<any>).insertInto('certificates').values({
        serial: leaf.serial, service: 'orders', spiffe_id: 'spiffe://td.test/svc/orders', sans: '{"dns":[],"ips":[]}', not_before: 0, not_after: 1, requested_by: 'test', status: 'valid', revoked_at: null, revocation_reason: null, cert_pem: leaf.certPem, created_at: 0, issuer_id: null,
      }).execute();
      await store.migrate();
      const row = await store.db.selectFrom('certificates').select('spki_sha256').where('serial', '=', leaf.serial).executeTakeFirstOrThrow();
      const spki = new x509.X509Certificate(leaf.certPem).publicKey.rawData;
      assert.equal(row.spki_sha256, createHash('sha256').update(new Uint8Array(spki)).digest('hex'));
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
      await database?.drop();
    }
  });
});
