import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import crypto from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureDataDir, loadCookieKeys, loadMasterKey, writeSecretFile } from './secrets.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gh-secrets-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ok: ensureDataDir restricts a pre-existing 0755 data directory to 0700', () => withDir((parent) => {
  const dataDir = join(parent, 'data');
  mkdirSync(dataDir, { mode: 0o755 });
  chmodSync(dataDir, 0o755);
  ensureDataDir(dataDir);
  assert.equal(mode(dataDir), 0o700);
}));

test('ok: a generated master.key and cookie.key are 0600 and read back unchanged', () => withDir((dir) => {
  const key = loadMasterKey(dir, {});
  assert.equal(mode(join(dir, 'master.key')), 0o600);
  assert.deepEqual(loadMasterKey(dir, {}), key);
  loadCookieKeys(dir, {});
  assert.equal(mode(join(dir, 'cookie.key')), 0o600);
}));

for (const [name, load] of [['master.key', (dir: string) => loadMasterKey(dir, {})], ['cookie.key', (dir: string) => loadCookieKeys(dir, {})]] as const) {
  test(`fail-key-readable: a ${name} readable by group or others is refused with a chmod 600 hint`, () => withDir((dir) => {
    load(dir);
    const path = join(dir, name);
    for (const loose of [0o644, 0o640, 0o604]) {
      chmodSync(path, loose);
      assert.throws(() => load(dir), (error: Error) => error.message.includes(`chmod 600 ${path}`) && !error.message.includes('\n'));
    }
    chmodSync(path, 0o600);
    load(dir);
  }));
}

// The temp name comes from randomBytes: pinning it lets the test plant a link exactly where the
// write will go, which is what an attacker who could predict the name would do.
test('fail-symlink: a symlink planted at the temp name is refused, never followed', (t) => withDir((dir) => {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'untouched');
  const target = join(dir, 'root-key.pem');
  const fixed = Buffer.alloc(8, 0xab);
  t.mock.method(crypto, 'randomBytes', () => Buffer.from(fixed));
  syncBuiltinESMExports();
  try {
    symlinkSync(victim, `${target}.${fixed.toString('hex')}.tmp`);
    assert.throws(() => writeSecretFile(target, 'SECRET\n'), (error: NodeJS.ErrnoException) => error.code === 'EEXIST');
  } finally {
    t.mock.restoreAll();
    syncBuiltinESMExports();
  }
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(existsSync(target), false);
}));

test('ok: writeSecretFile replaces a symlink at the target instead of writing through it', () => withDir((dir) => {
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'untouched');
  const target = join(dir, 'root-key.pem');
  symlinkSync(victim, target);
  writeSecretFile(target, 'SECRET\n');
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.equal(lstatSync(target).isSymbolicLink(), false);
  assert.equal(readFileSync(target, 'utf8'), 'SECRET\n');
  assert.equal(mode(target), 0o600);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
}));

/**
 * Two real processes create the keys of the same fresh data directories at the same instant (a
 * busy-wait barrier), one directory after another. Each must end up with the key on disk — the
 * one it would seal rows with — and both with the same one. Replacing a key another process
 * already uses (check, write, rename over) fails this in some of the directories.
 */
test('ok: two processes creating master.key at once both use the key left on disk', async () => {
  const base = mkdtempSync(join(tmpdir(), 'gh-secrets-race-'));
  const count = 150;
  try {
    const startAt = Date.now() + 1500;
    const child = `
      const [modulePath, startAt, base, count] = process.argv.slice(1);
      const { loadMasterKey, loadCookieKeys } = await import(modulePath);
      while (Date.now() < Number(startAt)) {}
      const keys = [];
      for (let i = 0; i < Number(count); i++) keys.push([loadMasterKey(base + '/' + i, {}).toString('base64url'), loadCookieKeys(base + '/' + i, {})[0]]);
      process.stdout.write(JSON.stringify(keys));`;
    const run = () => new Promise<Array<[string, string]>>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--input-type=module', '-e', child, new URL('./secrets.ts', import.meta.url).pathname, String(startAt), base, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      proc.stdout.on('data', (chunk) => (out += chunk));
      proc.on('error', reject);
      proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Array<[string, string]>) : reject(new Error(`child exited ${code}`))));
    });
    const [first, second] = await Promise.all([run(), run()]);
    const disagreements: number[] = [];
    for (let i = 0; i < count; i++) {
      const onDisk = [readFileSync(join(base, String(i), 'master.key'), 'utf8').trim(), readFileSync(join(base, String(i), 'cookie.key'), 'utf8').trim()];
      if (JSON.stringify(first[i]) !== JSON.stringify(onDisk) || JSON.stringify(second[i]) !== JSON.stringify(onDisk)) disagreements.push(i);
      assert.deepEqual(readdirSync(join(base, String(i))).filter((f) => f.endsWith('.tmp')), [], 'no temp file left behind');
    }
    assert.deepEqual(disagreements, [], 'directories where a process holds a key that is not the one on disk');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('ok: writeSecretFile with exclusive never replaces an existing file', () => withDir((dir) => {
  const path = join(dir, 'master.key');
  assert.equal(writeSecretFile(path, 'FIRST\n', { exclusive: true }), true);
  assert.equal(writeSecretFile(path, 'SECOND\n', { exclusive: true }), false);
  assert.equal(readFileSync(path, 'utf8'), 'FIRST\n');
  assert.deepEqual(readdirSync(dir), ['master.key']);
}));
