/** `gatehouse client add --grant device_code` (RFC 8628) run as a real process against a fresh data dir. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.ts';

let dataDir: string;
const gatehouse = (args: string[]) => runCli(args, { dataDir });

before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-device-')); });
after(() => { rmSync(dataDir, { recursive: true, force: true }); });

test('ok: --grant device_code registers the device grant (a public client, no redirect URI)', () => {
  const added = gatehouse(['client', 'add', 'Build tool', '--id', 'build-cli', '--public', '--third-party', '--grant', 'device_code', '--grant', 'refresh_token', '--scope', 'openid offline_access', '--json']);
  assert.equal(added.code, 0, added.stderr);
  const client = JSON.parse(added.stdout) as { grantTypes: string[]; public: boolean; secret?: string };
  assert.deepEqual(client.grantTypes, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']);
  assert.equal(client.public, true);
  assert.equal(client.secret, undefined);
});

test('fail-grant: an unknown grant name is refused and nothing is registered', () => {
  const refused = gatehouse(['client', 'add', 'Bad', '--id', 'bad-cli', '--public', '--grant', 'device']);
  assert.notEqual(refused.code, 0);
  assert.equal(gatehouse(['client', 'show', 'bad-cli']).code, 1);
});

test('ok: client update --grant device_code sets the device grant by its short name', () => {
  assert.equal(gatehouse(['client', 'add', 'Tool', '--id', 'tool-cli', '--public', '--grant', 'device_code']).code, 0);
  const updated = gatehouse(['client', 'update', 'tool-cli', '--grant', 'device_code', '--grant', 'refresh_token']);
  assert.equal(updated.code, 0, updated.stderr);
  const client = JSON.parse(gatehouse(['client', 'show', 'tool-cli', '--json']).stdout) as { grantTypes: string[] };
  assert.deepEqual(client.grantTypes, ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token']);
});
