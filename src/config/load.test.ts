import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from './load.ts';

function configFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
  const path = join(dir, 'gatehouse.yaml');
  writeFileSync(path, text);
  return path;
}

test('ok: defaults when no file exists', () => {
  const config = loadConfig({ env: {}, configPath: undefined, overrides: {} });
  assert.equal(config.issuer, 'http://localhost:8080');
  assert.equal(config.tokens.accessTokenTtl, 600);
  assert.equal(config.tokens.algorithm, 'ES256');
});

test('ok: durations are parsed to seconds and env wins over the file', () => {
  const path = configFile('tokens:\n  accessTokenTtl: 5m\ndataDir: /from/file\n');
  const config = loadConfig({ configPath: path, env: { GATEHOUSE_DATA_DIR: '/from/env' } });
  assert.equal(config.tokens.accessTokenTtl, 300);
  assert.equal(config.dataDir, '/from/env');
  assert.equal(loadConfig({ configPath: path, env: { GATEHOUSE_DATA_DIR: '/from/env' }, dataDir: '/from/flag' }).dataDir, '/from/flag');
});

test('fail-invalid-values: the error names every bad key path and what was expected', () => {
  const path = configFile('listen:\n  port: "eighty"\nroles:\n  Admin: ["*"]\ntokens:\n  accessTokenTtl: soon\nbogus: 1\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const text = error.message;
    assert.match(text, /listen\.port: .*expected number/);
    assert.match(text, /roles\.Admin/);
    assert.match(text, /tokens\.accessTokenTtl/);
    assert.match(text, /bogus/);
    return true;
  });
});

test('fail-not-yaml: a broken file is reported, not thrown raw', () => {
  const path = configFile('listen: [unclosed\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), /not valid YAML/);
});

test('fail-missing-file: an explicit --config that does not exist is an error', () => {
  assert.throws(() => loadConfig({ configPath: '/nonexistent/gatehouse.yaml', env: {} }), /cannot read the file \(ENOENT\)/);
});

test('fail-weak-argon2: parameters below the OWASP minimum are refused', () => {
  const path = configFile('passwords:\n  argon2:\n    memory: 1024\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), /passwords\.argon2\.memory/);
});

test('ok: the default resource derives from the issuer', () => {
  const path = configFile('issuer: https://auth.example.com\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).resources, [{ audience: 'https://auth.example.com/api', scopes: [] }]);
  assert.deepEqual(loadConfig({ configPath: path, env: { GATEHOUSE_ISSUER: 'https://id.example.org/' } }).resources, [{ audience: 'https://id.example.org/api', scopes: [] }]);
});

test('ok: configured resources are kept as written', () => {
  const path = configFile('issuer: https://auth.example.com\nresources:\n  - audience: https://api.example.com\n    scopes: [books:read]\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).resources, [{ audience: 'https://api.example.com', scopes: ['books:read'] }]);
});
