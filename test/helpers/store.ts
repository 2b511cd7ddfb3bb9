/** A fresh, migrated store for component tests: SQLite in a temp dir or a fresh PostgreSQL database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type Store } from '../../src/store/index.ts';
import { createTestDatabase } from './postgres.ts';
import type { TestDialect } from './service.ts';

export async function openTestStore(dialect: TestDialect = 'sqlite'): Promise<{ store: Store; close(): Promise<void> }> {
  let store: Store;
  let cleanup: () => Promise<void>;
  if (dialect === 'postgres') {
    const database = await createTestDatabase();
    store = openStore({ url: database.url, dataDir: '/nonexistent', poolSize: 3 });
    cleanup = () => database.drop();
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
    store = openStore({ dataDir: dir });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  await store.migrate();
  return { store, async close() { await store.close(); await cleanup(); } };
}
