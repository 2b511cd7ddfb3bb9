/** `gatehouse keys …` and `gatehouse audit …` run as real processes against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
let dataDir: string;

/** process.execPath is the Node 24 that runs the tests (npm test puts it first on PATH). */
function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(process.execPath, [main, '--data-dir', dataDir, ...args], { encoding: 'utf8', env: { ...process.env, GATEHOUSE_DATABASE_URL: '', GATEHOUSE_MASTER_KEY: '', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

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

test('ok: keys rotate promotes next, retires active with a publication deadline, and is audited', () => {
  const [active, next] = listKeys();
  const result = gatehouse(['keys', 'rotate']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, new RegExp(`active ${next!.kid}, next \\S+, retired ${active!.kid}`));
  const after = listKeys();
  assert.deepEqual(after.map((k) => [k.kid === next!.kid || k.kid === active!.kid ? k.kid : 'new', k.state]), [[next!.kid, 'active'], ['new', 'next'], [active!.kid, 'retired']]);
  assert.ok(after[2]!.retireUntil! > Date.now() / 1000);

  const audit = gatehouse(['audit', '--since', '1h', '--event', 'key.rotated']);
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /^TIME\s+EVENT\s+ACTOR\s+SUBJECT/);
  assert.match(audit.stdout, new RegExp(`key\\.rotated\\s+cli\\s+${next!.kid}`));
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
