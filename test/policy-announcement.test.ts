/** policy.changed goes out when an instance starts with a different roles → permissions policy, and only then. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/index.ts';
import { createSecurityService } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { decodeSet } from '../src/events/index.ts';
import { openStore } from '../src/store/index.ts';
import { freePort } from './helpers/service.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

async function startAndStop(roles?: Record<string, string[]>): Promise<string> {
  const config = configSchema.parse({ dataDir, listen: { port: await freePort(), tlsPort: await freePort() }, ...(roles ? { roles } : {}) });
  const service = await createSecurityService({ config, logger: silentLogger(), env: {} });
  const version = service.context.policy.version;
  await service.close();
  return version;
}

async function announced(): Promise<string[]> {
  const store = openStore({ dataDir });
  try {
    const rows = await store.db.selectFrom('security_events').select(['seq', 'set_jwt']).where('event_type', '=', 'policy.changed').orderBy('seq').execute();
    return rows.map((row) => {
      const published = decodeSet(row.set_jwt, Number(row.seq));
      assert.equal(published?.event.type, 'policy.changed');
      return (published!.event as { version: string }).version;
    });
  } finally {
    await store.close();
  }
}

test('ok: the first start announces the policy version; a restart with the same policy does not', async () => {
  const version = await startAndStop();
  assert.deepEqual(await announced(), [version]);
  await startAndStop();
  assert.deepEqual(await announced(), [version]);
});

test('ok: a start with changed roles announces the new version', async () => {
  const before = await announced();
  const version = await startAndStop({ admin: ['*'], reader: ['books:read'] });
  assert.notEqual(version, before.at(-1));
  assert.deepEqual(await announced(), [...before, version]);
});
