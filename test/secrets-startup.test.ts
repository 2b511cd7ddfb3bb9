/**
 * Two real processes start together on a fresh data directory (`gatehouse ca init` twice at
 * once): both succeed, and every sealed row — signing keys and CA keys — opens with the
 * master.key left on disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/store/index.ts';
import { unseal } from '../src/shared/sealed.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { cliEntry, cliEnv, type CliResult } from './helpers/cli.ts';

function cliAsync(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliEntry, ...args], { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

await forEachDialect('two processes starting on a fresh data dir', (dialect) => {
  test('ok: both start, and every sealed row opens with the master.key on disk', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'gh-startup-')), 'data');
    const database = dialect === 'postgres' ? await createTestDatabase() : undefined;
    cleanups.push(async () => { rmSync(dataDir, { recursive: true, force: true }); await database?.drop(); });
    const env = { GATEHOUSE_DATABASE_URL: database?.url ?? '', GATEHOUSE_MASTER_KEY: undefined, GATEHOUSE_COOKIE_KEY: undefined };

    const results = await Promise.all([cliAsync(['--data-dir', dataDir, 'ca', 'init'], env), cliAsync(['--data-dir', dataDir, 'ca', 'init'], env)]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(results.map((r) => /^(created|already initialized)/.exec(r.stdout)?.[1]).sort(), ['already initialized', 'created'], 'one CA, created once');

    const masterKey = Buffer.from(readFileSync(join(dataDir, 'master.key'), 'utf8').trim(), 'base64url');
    const store = openStore({ url: database?.url, dataDir });
    try {
      const signing = await store.db.selectFrom('signing_keys').select(['kid', 'private_jwk_enc']).execute();
      const cas = await store.db.selectFrom('ca_certificates').select(['id', 'key_enc']).execute();
      assert.ok(signing.length >= 2 && cas.length === 2, `${signing.length} signing keys, ${cas.length} CA certificates`);
      for (const row of signing) assert.doesNotThrow(() => unseal(masterKey, row.private_jwk_enc, row.kid), `signing key ${row.kid}`);
      for (const row of cas) assert.doesNotThrow(() => unseal(masterKey, row.key_enc!, `ca:${row.id}`), `CA key ${row.id}`);
    } finally {
      await store.close();
    }
  });
});
