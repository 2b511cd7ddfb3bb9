/** `gatehouse identity list|unlink` run as a real process against a data dir holding a linked identity. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../src/config/index.ts';
import { createContext, closeContext } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[]) => runCli(args, { dataDir, env: { GATEHOUSE_MASTER_KEY: undefined, GATEHOUSE_COOKIE_KEY: undefined } });

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-identity-'));
  // A user who signed in through "corp" (no password) and one with a password and two links.
  const context = await createContext({ config: configSchema.parse({ dataDir }), logger: silentLogger(), env: {} });
  try {
    const ruth = await context.users.create({ username: 'ruth', email: 'ruth@example.com' }, 'test');
    const sam = await context.users.create({ username: 'sam', email: 'sam@example.com', password: 'Quartz-Lantern-Meadow-8142' }, 'test');
    await context.store.db.insertInto('federated_identities').values([
      { provider: 'corp', subject: 'ruth-at-corp', user_id: ruth.id, label: 'ruth', linked_at: 1_700_000_000, last_login_at: null },
      { provider: 'corp', subject: 'sam-at-corp', user_id: sam.id, label: 'sam', linked_at: 1_700_000_000, last_login_at: null },
    ]).execute();
  } finally {
    await closeContext(context);
  }
});
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: identity list prints the links (table and JSON)', () => {
  const table = gatehouse(['identity', 'list', 'sam']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^PROVIDER\s+SUBJECT\s+LABEL\s+LINKED/);
  assert.match(table.stdout, /\ncorp\s+sam-at-corp\s+sam\s+2023-11-14T22:13:20\.000Z/);
  const json = JSON.parse(gatehouse(['identity', 'list', 'ruth', '--json']).stdout) as Array<{ provider: string; subject: string; providerName: string }>;
  assert.deepEqual(json.map((l) => [l.provider, l.subject, l.providerName]), [['corp', 'ruth-at-corp', 'corp']]);
});

test('fail-last-way: unlinking the only way a password-less user signs in is refused', () => {
  const result = gatehouse(['identity', 'unlink', 'ruth', 'corp', 'ruth-at-corp']);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /only way this account can sign in/);
  assert.match(gatehouse(['identity', 'list', 'ruth']).stdout, /ruth-at-corp/);
});

test('ok: identity unlink removes a link; a second time exits 1', () => {
  const result = gatehouse(['identity', 'unlink', 'sam', 'corp', 'sam-at-corp']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /unlinked corp\/sam-at-corp from sam/);
  assert.match(gatehouse(['identity', 'list', 'sam']).stdout, /\(none\)/);
  assert.equal(gatehouse(['identity', 'unlink', 'sam', 'corp', 'sam-at-corp']).code, 1);
});
