/**
 * `gatehouse secrets rekey`: every sealed private key (signing keys, CA keys) is re-sealed under
 * the new master key in one transaction, given the old key once; the service then starts with
 * the new key only. Run through the real CLI against SQLite and PostgreSQL.
 */
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { configSchema, type Config } from '../src/config/index.ts';
import { createContext, closeContext } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { seal, sealedKeyId, masterKeyId, unseal } from '../src/shared/sealed.ts';
import { openStore, sealedColumns } from '../src/store/index.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { openTestStore } from './helpers/store.ts';
import { runCli } from './helpers/cli.ts';

const b64 = (key: Buffer) => key.toString('base64');

/** Every sealed value in the store, by `table:id`. */
async function sealedValues(config: Config): Promise<Map<string, string>> {
  const store = openStore({ url: config.database.url, dataDir: config.dataDir });
  try {
    const values = new Map<string, string>();
    for (const row of await store.db.selectFrom('signing_keys').select(['kid', 'private_jwk_enc']).execute()) values.set(`signing_keys:${row.kid}`, row.private_jwk_enc);
    for (const row of await store.db.selectFrom('ca_certificates').select(['id', 'key_enc']).execute()) if (row.key_enc) values.set(`ca_certificates:${row.id}`, row.key_enc);
    return values;
  } finally {
    await store.close();
  }
}

async function startsWith(config: Config, key: Buffer): Promise<void> {
  const context = await createContext({ config, logger: silentLogger(), env: { GATEHOUSE_MASTER_KEY: b64(key) } });
  try {
    await context.pki.authority({ fresh: true }); // opens the CA keys
  } finally {
    await closeContext(context);
  }
}

await forEachDialect('secrets rekey', (dialect) => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  let config: Config;
  let dir: string;
  let drop: (() => Promise<void>) | undefined;
  const rekey = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['secrets', 'rekey', ...args], { dataDir: config.dataDir, env: { GATEHOUSE_MASTER_KEY: b64(newKey), GATEHOUSE_DATABASE_URL: config.database.url ?? '', GATEHOUSE_OLD_MASTER_KEY: undefined, ...env } });
  const oldKeyFile = () => {
    const path = join(dir, 'old-master.key');
    writeFileSync(path, `${oldKey.toString('base64url')}\n`, { mode: 0o600 });
    return path;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-rekey-'));
    const database = dialect === 'postgres' ? await createTestDatabase() : undefined;
    drop = database?.drop;
    config = configSchema.parse({ issuer: 'http://127.0.0.1:1', dataDir: join(dir, 'data'), database: database ? { url: database.url, poolSize: 2 } : {} });
    // Signing keys and the CA, sealed under the old key.
    const context = await createContext({ config, logger: silentLogger(), env: { GATEHOUSE_MASTER_KEY: b64(oldKey) } });
    await context.pki.ensureInitialized();
    await closeContext(context);
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await drop?.();
  });

  test('ok: every sealed value moves to the new master key; the service starts with the new key, not the old one', async () => {
    const before = await sealedValues(config);
    assert.ok([...before.values()].every((v) => sealedKeyId(v) === masterKeyId(oldKey)));
    const result = rekey(['--old-key-file', oldKeyFile()]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`^re-sealed under master key ${masterKeyId(newKey)}: signing_keys 2, ca_certificates 2; 0 already under it`));
    const after = await sealedValues(config);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
    assert.ok([...after.values()].every((v) => sealedKeyId(v) === masterKeyId(newKey)));
    await startsWith(config, newKey);
    await assert.rejects(startsWith(config, oldKey), new RegExp(`wrong master key \\(sealed under master key ${masterKeyId(newKey)}`));

    const audit = runCli(['audit', '--event', 'master_key.rotated', '--json'], { dataDir: config.dataDir, env: { GATEHOUSE_MASTER_KEY: b64(newKey), GATEHOUSE_DATABASE_URL: config.database.url ?? '' } });
    const entries = JSON.parse(audit.stdout) as Array<{ subject: string; data: { previous: string } }>;
    assert.deepEqual(entries.map((e) => [e.subject, e.data.previous]), [[masterKeyId(newKey), masterKeyId(oldKey)]]);
  });

  test('ok: a value in the old format (v1, no key id) is re-sealed too; the old key may come from GATEHOUSE_OLD_MASTER_KEY', async () => {
    const store = openStore({ url: config.database.url, dataDir: config.dataDir });
    const row = await store.db.selectFrom('ca_certificates').select(['id', 'key_enc']).where('kind', '=', 'intermediate').executeTakeFirstOrThrow();
    const [, , iv, tag, ciphertext] = row.key_enc!.split('.');
    await store.db.updateTable('ca_certificates').set({ key_enc: ['v1', iv, tag, ciphertext].join('.') }).where('id', '=', row.id).execute();
    await store.close();
    const result = rekey([], { GATEHOUSE_OLD_MASTER_KEY: b64(oldKey) });
    assert.equal(result.code, 0, result.stderr);
    const after = await sealedValues(config);
    assert.equal(sealedKeyId(after.get(`ca_certificates:${row.id}`)!), masterKeyId(newKey));
    assert.match(unseal(newKey, after.get(`ca_certificates:${row.id}`)!, `ca:${row.id}`), /BEGIN PRIVATE KEY/);
  });

  test('ok: run again, nothing is left to re-seal and nothing changes', async () => {
    assert.equal(rekey(['--old-key-file', oldKeyFile()]).code, 0);
    const once = await sealedValues(config);
    const again = rekey(['--old-key-file', oldKeyFile()]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /signing_keys 0, ca_certificates 0; 4 already under it/);
    assert.deepEqual(await sealedValues(config), once);
  });

  test('fail-unknown-key: one value under a third key re-seals nothing (one transaction), exit 1 naming the row', async () => {
    // A CA row: the signing keys, re-sealed before it, must be rolled back too.
    const stranger = randomBytes(32);
    const store = openStore({ url: config.database.url, dataDir: config.dataDir });
    const row = await store.db.selectFrom('ca_certificates').select('id').where('kind', '=', 'intermediate').executeTakeFirstOrThrow();
    await store.db.updateTable('ca_certificates').set({ key_enc: seal(stranger, 'KEY', `ca:${row.id}`) }).where('id', '=', row.id).execute();
    await store.close();
    const before = await sealedValues(config);
    const result = rekey(['--old-key-file', oldKeyFile()]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, new RegExp(`^gatehouse: ca_certificates ${row.id} is sealed under master key ${masterKeyId(stranger)}`));
    assert.deepEqual(await sealedValues(config), before, 'nothing re-sealed');
  });

  test('fail-same-key: the old key equal to the current one is a usage error (exit 2)', () => {
    const result = rekey(['--old-key-file', oldKeyFile()], { GATEHOUSE_MASTER_KEY: b64(oldKey) });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^gatehouse: the old key is the current master key/);
  });

  test('fail-no-old-key: without --old-key-file or GATEHOUSE_OLD_MASTER_KEY it is a usage error (exit 2)', () => {
    const result = rekey([]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--old-key-file <file> or GATEHOUSE_OLD_MASTER_KEY/);
  });
});

test('ok: every *_enc column of the schema is one `secrets rekey` re-seals', async () => {
  const { store, close } = await openTestStore('sqlite');
  try {
    const columns = await sql<{ name: string }>`select m.name || '.' || p.name as name from sqlite_master m join pragma_table_info(m.name) p where m.type = 'table' and p.name like '%\\_enc' escape '\\'`.execute(store.db);
    assert.deepEqual(columns.rows.map((r) => r.name).sort(), sealedColumns.map((c) => `${c.table}.${c.column}`).sort());
  } finally {
    await close();
  }
});
