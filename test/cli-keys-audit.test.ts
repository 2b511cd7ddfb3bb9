/** `gatehouse keys …` and `gatehouse audit …` run as real processes against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';
import { loadConfig } from '../src/config/index.ts';
import { createContext, closeContext } from '../src/service.ts';
import { silentLogger } from '../src/shared/logger.ts';

let dataDir: string;
/** No inherited master key: keys stay unsealed unless a test passes one. */
const gatehouse = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { dataDir, env: { GATEHOUSE_MASTER_KEY: '', ...env } });

interface KeyInfo { kid: string; state: string; retireUntil: number | null }
const listKeys = () => JSON.parse(gatehouse(['keys', 'list', '--json']).stdout) as KeyInfo[];

before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-keys-')); });
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: keys list shows the active and the pre-published next key', () => {
  const table = gatehouse(['keys', 'list']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^KID\s+ALG\s+STATE/);
  assert.match(table.stdout, /\n\S+\s+ES256\s+active\s/);
  assert.match(table.stdout, /\n\S+\s+ES256\s+next\s/);
  assert.deepEqual(listKeys().map((k) => k.state), ['active', 'next']);
});

test('fail-next-too-young: keys rotate refuses a next key published less than keyActivationDelay ago, naming when it may sign', () => {
  const before = listKeys();
  const result = gatehouse(['keys', 'rotate']);
  assert.equal(result.code, 1);
  assert.match(result.stderr.trim(), new RegExp(`^gatehouse: The next key ${before[1]!.kid} was published \\d+ s ago and may sign from \\d{4}-\\d\\d-\\d\\dT\\S+Z \\(in \\d+ s, tokens.keyActivationDelay\\).*--force \\(key_not_ready\\)$`));
  assert.equal(result.stderr.trim().split('\n').length, 1);
  assert.deepEqual(listKeys(), before, 'nothing changed');
});

test('ok: keys list shows when each key was published and when the next key may sign', () => {
  const table = gatehouse(['keys', 'list']);
  assert.match(table.stdout, /^KID\s+ALG\s+STATE\s+PUBLISHED\s+ELIGIBLE/);
  const [active, next] = listKeys() as Array<KeyInfo & { createdAt: number; eligibleAt: number | null }>;
  assert.equal(active!.eligibleAt, null);
  assert.equal(next!.eligibleAt, next!.createdAt + 60);
});

test('ok: keys rotate --force promotes next, warns, retires active with a publication deadline, and is audited', () => {
  const [active, next] = listKeys();
  const result = gatehouse(['keys', 'rotate', '--force']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^warning: forced: /);
  assert.match(result.stdout, new RegExp(`active ${next!.kid}, next \\S+, retired ${active!.kid}`));
  assert.match(result.stdout, /may become active from \d{4}-\d\d-\d\dT\S+Z/);
  const after = listKeys();
  assert.deepEqual(after.map((k) => [k.kid === next!.kid || k.kid === active!.kid ? k.kid : 'new', k.state]), [[next!.kid, 'active'], ['new', 'next'], [active!.kid, 'retired']]);
  assert.ok(after[2]!.retireUntil! > Date.now() / 1000);

  const audit = gatehouse(['audit', '--since', '1h', '--event', 'key.rotated']);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /^TIME \(UTC\)\s+EVENT\s+ACTOR\s+SUBJECT\s+CLIENT\s+REASON\n/);
  // Long ids are shortened in the table (--json has them whole).
  assert.match(audit.stdout, new RegExp(`key\\.rotated\\s+cli\\s+${next!.kid.slice(0, 20)}…`));
  const json = JSON.parse(gatehouse(['audit', '--since', '30m', '--json']).stdout) as Array<{ event: string; data: { retiredKid: string } }>;
  assert.equal(json.at(-1)?.event, 'key.rotated');
  assert.equal(json.at(-1)?.data.retiredKid, active!.kid);
});

test('fail-wrong-master-key: a one-line error and a non-zero exit', () => {
  const result = gatehouse(['keys', 'list'], { GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^gatehouse: cannot decrypt a stored private key: wrong master key/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('fail-bad-usage: audit --since and --event are validated (exit 2)', () => {
  for (const args of [['audit', '--since', 'yesterday'], ['audit', '--event', 'nope.happened'], ['audit', '--limit', '0']]) {
    const result = gatehouse(args);
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.stderr, /^gatehouse: --(since|event|limit) expects/);
  }
});

/** What a signed-in user's action looks like in the log (actor user:<id>), written as the service would. */
async function recordAsUser(username: string): Promise<string> {
  const context = await createContext({ config: loadConfig({ dataDir, env: {} }), logger: silentLogger(), env: { GATEHOUSE_MASTER_KEY: '' } });
  try {
    const user = await context.users.find(username);
    await context.audit.record({ event: 'consent.granted', actor: `user:${user.id}`, subject: user.id, clientId: 'bookstore-web', ip: '203.0.113.7', reason: 'user_consent' });
    return user.id;
  } finally {
    await closeContext(context);
  }
}

test('ok: the audit table names users instead of UUIDs and fits 100 columns', async () => {
  assert.equal(gatehouse(['user', 'add', 'alice', '--email', 'alice@example.com']).code, 0);
  const id = await recordAsUser('alice');
  const table = gatehouse(['audit', '--since', '1h']);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\n\d\d-\d\d \d\d:\d\d:\d\d\s+consent\.granted\s+user:alice\s+alice\s+bookstore-web\s+user_consent\n/);
  assert.match(table.stdout, /user\.created\s+cli\s+alice\s/);
  assert.doesNotMatch(table.stdout, new RegExp(id));
  const widest = Math.max(...table.stdout.split('\n').map((line) => line.length));
  assert.ok(widest <= 100, `the table is ${widest} columns wide:\n${table.stdout}`);
});

test('ok: audit --subject takes a username (or an id) and --since a plain number of seconds', async () => {
  assert.equal(gatehouse(['user', 'add', 'bea', '--email', 'bea@example.com']).code, 0);
  const id = await recordAsUser('bea');
  for (const subject of ['bea', id]) {
    const entries = JSON.parse(gatehouse(['audit', '--since', '90', '--subject', subject, '--json']).stdout) as Array<{ event: string; subject: string }>;
    assert.deepEqual(entries.map((e) => e.event), ['user.created', 'consent.granted'], subject);
    assert.ok(entries.every((e) => e.subject === id));
  }
});
