/** The `gatehouse` command as a real process: one-line failures with exit codes, help, migrate, config check, serve auth. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/service.ts';
import { runCli, cliEntry, cliEnv } from './helpers/cli.ts';

/** No inherited config file or data dir: each test names what it uses. */
const unset: NodeJS.ProcessEnv = { GATEHOUSE_CONFIG: undefined, GATEHOUSE_DATA_DIR: undefined };
let dir: string;
const gatehouse = (args: string[]) => runCli(args, { env: unset, cwd: dir });

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, /^gatehouse: [^\n]+\n$/, `one line expected, got ${JSON.stringify(stderr)}`);
  assert.match(stderr, pattern);
}

before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-main-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

test('fail-usage: an unknown command → one line, exit 2', () => {
  const result = gatehouse(['frobnicate']);
  assert.equal(result.code, 2);
  assertOneLine(result.stderr, /unknown command 'frobnicate'/);
});

test('fail-usage: a missing argument → one line, exit 2', () => {
  const result = gatehouse(['--data-dir', join(dir, 'data'), 'user', 'show']);
  assert.equal(result.code, 2);
  assertOneLine(result.stderr, /missing required argument 'user'/);
});

test('fail-usage: an unknown option → one line, exit 2', () => {
  const result = gatehouse(['--data-dir', join(dir, 'data'), 'user', 'list', '--bogus']);
  assert.equal(result.code, 2);
  assertOneLine(result.stderr, /unknown option '--bogus'/);
});

test('fail-usage: a command group without its command → one line, exit 2', () => {
  const result = gatehouse(['user']);
  assert.equal(result.code, 2);
  assertOneLine(result.stderr, /a command is required/);
});

test('ok: --help exits 0; subcommand help shows the global --data-dir and --config', () => {
  const root = gatehouse(['--help']);
  assert.equal(root.code, 0);
  assert.match(root.stdout, /Usage: gatehouse/);
  assert.equal(root.stderr, '');
  const user = gatehouse(['user', '--help']);
  assert.equal(user.code, 0);
  assert.match(user.stdout, /Global Options:[\s\S]*--data-dir <path>[\s\S]*/);
  assert.match(user.stdout, /--config <path>/);
  assert.match(gatehouse(['user', 'add', '--help']).stdout, /--data-dir <path>/);
});

test('ok: migrate applies the migrations once, then reports up to date', () => {
  const data = join(dir, 'migrate');
  const first = gatehouse(['--data-dir', data, 'migrate']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /^applied 0001_core, /);
  const second = gatehouse(['--data-dir', data, 'migrate']);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /^up to date /);
});

test('fail-config: config check with a bad file → one line naming the key path, exit 2', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'throttle:\n  freeAttempts: -1\nlisten:\n  port: eighty\n');
  const result = gatehouse(['--data-dir', join(dir, 'data'), '--config', file, 'config', 'check']);
  assert.equal(result.code, 2);
  assertOneLine(result.stderr, /throttle\.freeAttempts/);
  assert.match(result.stderr, /listen\.port/);
  const good = gatehouse(['--data-dir', join(dir, 'data'), 'config', 'check']);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /configuration is valid/);
});

test('ok: config check prints the effective configuration as YAML: env included, the issuer following the port, no database URL', () => {
  const result = runCli(['--data-dir', join(dir, 'data'), 'config', 'check'], { env: { ...unset, GATEHOUSE_PORT: '9100', GATEHOUSE_DATABASE_URL: 'postgres://gatehouse:s3cret@db/gatehouse' }, cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^# configuration is valid \(defaults\)/);
  assert.match(result.stdout, /\nissuer: http:\/\/localhost:9100\n/);
  assert.match(result.stdout, /\n  port: 9100\n/);
  assert.match(result.stdout, /\n  url: \(set\)\n/);
  assert.doesNotMatch(result.stdout, /s3cret/);
});

test('ok: user add --help says that --email is required', () => {
  const help = gatehouse(['user', 'add', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: gatehouse user add <username> --email <email> \[options\]/);
  assert.match(help.stdout, /--email <email>\s+email address \(required;/);
});

test('fail-validation: a refused value reads as words (what was expected, what was received), not zod\'s text', () => {
  const result = gatehouse(['--data-dir', join(dir, 'data'), 'client', 'add', 'Shop', '--grant', 'implicit']);
  assert.equal(result.code, 1);
  assertOneLine(result.stderr, /grantTypes\.0: must be one of: authorization_code, refresh_token, client_credentials, urn:ietf:params:oauth:grant-type:device_code, received "implicit"/);
  assert.doesNotMatch(result.stderr, /Invalid option|expected one of/);
});

test('ok: serve auth starts, answers /readyz, and exits 0 on SIGTERM', async () => {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const file = join(dir, 'serve.yaml');
  writeFileSync(file, `issuer: http://127.0.0.1:${port}\nlisten:\n  host: 127.0.0.1\n  port: ${port}\n  tlsPort: ${tlsPort}\nlog:\n  level: warn\n`);
  const child = spawn(process.execPath, [cliEntry, '--data-dir', join(dir, 'serve'), '--config', file, 'serve', 'auth'], { env: cliEnv(unset), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = once(child, 'exit');
  try {
    let ready: Response | undefined;
    for (let i = 0; i < 150 && ready?.status !== 200; i++) {
      if (child.exitCode !== null) break;
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      if (ready?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(ready?.status, 200, output);
    assert.deepEqual(await ready!.json(), { status: 'ready' });
  } finally {
    child.kill('SIGTERM');
  }
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
});

test('ok: serve auth --port with no issuer configured: the issuer follows the port and the log names the real URL', async () => {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const file = join(dir, 'serve-port.yaml');
  writeFileSync(file, `listen:\n  host: 127.0.0.1\n  tlsPort: ${tlsPort}\nlog:\n  level: info\n  pretty: false\n`);
  const child = spawn(process.execPath, [cliEntry, '--data-dir', join(dir, 'serve-port'), '--config', file, 'serve', 'auth', '--port', String(port)], { env: cliEnv({ ...unset, GATEHOUSE_ISSUER: '', GATEHOUSE_PORT: '' }), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  const exited = once(child, 'exit');
  try {
    let discovery: Response | undefined;
    for (let i = 0; i < 150 && discovery?.status !== 200; i++) {
      if (child.exitCode !== null) break;
      discovery = await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`).catch(() => undefined);
      if (discovery?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(discovery?.status, 200, output);
    assert.equal(((await discovery!.json()) as { issuer: string }).issuer, `http://localhost:${port}`);
    assert.match(output, new RegExp(`security service listening on http://127\\.0\\.0\\.1:${port} \\(issuer http://localhost:${port}\\)`));
  } finally {
    child.kill('SIGTERM');
  }
  await exited;
});
