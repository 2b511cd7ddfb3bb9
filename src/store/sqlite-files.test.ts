import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from './db.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

async function openAndWrite(dataDir: string): Promise<() => Promise<void>> {
  const store = openStore({ dataDir });
  await store.migrate(); // writes: the WAL and shared-memory files exist from here on
  return () => store.close();
}

test('ok: gatehouse.db and its -wal/-shm files are created 0600 under a permissive umask', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-sqlite-'));
  const previous = process.umask(0o022);
  try {
    const close = await openAndWrite(dataDir);
    try {
      for (const file of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm']) {
        assert.ok(existsSync(join(dataDir, file)), file);
        assert.equal(mode(join(dataDir, file)), 0o600, file);
      }
    } finally {
      await close();
    }
  } finally {
    process.umask(previous);
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('ok: database files left 0644 by an earlier start are restricted to 0600', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'gh-sqlite-'));
  try {
    for (const file of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm']) {
      writeFileSync(join(dataDir, file), '');
      chmodSync(join(dataDir, file), 0o644);
    }
    const close = await openAndWrite(dataDir);
    try {
      for (const file of ['gatehouse.db', 'gatehouse.db-wal', 'gatehouse.db-shm']) assert.equal(mode(join(dataDir, file)), 0o600, file);
    } finally {
      await close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
