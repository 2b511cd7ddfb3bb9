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
    assert.match(text, /listen\.port: must be a number, received "eighty"/);
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

test('ok: with only listen.port changed, the default issuer follows the listener', () => {
  const config = loadConfig({ configPath: configFile('listen:\n  port: 9100\n'), env: {} });
  assert.equal(config.listen.port, 9100);
  assert.equal(config.issuer, 'http://localhost:9100');
  assert.equal(config.resources[0]!.audience, 'http://localhost:9100/api', 'and the default API follows the issuer');
});

test('ok: an explicit issuer at another origin stays (the service is behind a proxy or gateway)', () => {
  const config = loadConfig({ configPath: configFile('issuer: http://localhost:8080\nlisten:\n  port: 9100\n'), env: {} });
  assert.equal(config.issuer, 'http://localhost:8080');
  assert.equal(config.listen.port, 9100);
});

test('ok: GATEHOUSE_PORT and --port set listen.port (the flag wins) and the issuer follows', () => {
  const path = configFile('listen:\n  port: 9100\n');
  assert.equal(loadConfig({ configPath: path, env: { GATEHOUSE_PORT: '9200' } }).issuer, 'http://localhost:9200');
  const flagged = loadConfig({ configPath: path, env: { GATEHOUSE_PORT: '9200' }, port: '9300' });
  assert.equal(flagged.listen.port, 9300);
  assert.equal(flagged.issuer, 'http://localhost:9300');
});

test('fail-port: a GATEHOUSE_PORT or --port that is not a port is refused, naming where it came from', () => {
  assert.throws(() => loadConfig({ env: { GATEHOUSE_PORT: 'eighty' } }), (error: unknown) => error instanceof ConfigError && /GATEHOUSE_PORT: expected a port number 0–65535, received "eighty"/.test(error.message));
  assert.throws(() => loadConfig({ env: {}, port: '70000' }), (error: unknown) => error instanceof ConfigError && /--port: expected a port number/.test(error.message));
});

test('fail-free-port-without-issuer: listen.port 0 needs an explicit issuer', () => {
  assert.throws(() => loadConfig({ env: {}, port: '0' }), (error: unknown) => error instanceof ConfigError && /issuer: set the issuer when listen\.port is 0/.test(error.message));
  assert.equal(loadConfig({ env: { GATEHOUSE_ISSUER: 'http://127.0.0.1:7000' }, port: '0' }).issuer, 'http://127.0.0.1:7000');
});

test('fail-replaced-key: http.trustProxy is refused with the key that replaces it', () => {
  const path = configFile('http:\n  trustProxy: true\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), /http: Unrecognized key: "trustProxy" \(replaced by http\.trustedProxies, a list of proxy CIDR blocks/);
});

test('fail-cidr: http.trustedProxies entries must be addresses or CIDR blocks', () => {
  const path = configFile('http:\n  trustedProxies: [10.0.0.0/33, proxy.internal]\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), (error: unknown) => {
    assert.match(String(error), /http\.trustedProxies\.0: prefix length/);
    assert.match(String(error), /http\.trustedProxies\.1: expected an IP address or CIDR block/);
    return true;
  });
});

test('ok: the default resource derives from the issuer', () => {
  const path = configFile('issuer: https://auth.example.com\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).resources, [{ audience: 'https://auth.example.com/api', scopes: [], descriptions: {} }]);
  assert.deepEqual(loadConfig({ configPath: path, env: { GATEHOUSE_ISSUER: 'https://id.example.org/' } }).resources, [{ audience: 'https://id.example.org/api', scopes: [], descriptions: {} }]);
});

test('ok: configured resources are kept as written', () => {
  const path = configFile('issuer: https://auth.example.com\nresources:\n  - audience: https://api.example.com\n    scopes: [books:read]\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).resources, [{ audience: 'https://api.example.com', scopes: ['books:read'], descriptions: {} }]);
});

test('ok: a resource describes its scopes in words for the consent page', () => {
  const path = configFile('issuer: https://auth.example.com\nresources:\n  - audience: https://api.example.com\n    scopes: [orders:read]\n    descriptions:\n      orders:read: Read your orders\n');
  assert.deepEqual(loadConfig({ configPath: path, env: {} }).resources[0]!.descriptions, { 'orders:read': 'Read your orders' });
});

test('fail-description-unknown-scope: a description of a scope the resource does not list is refused with its path', () => {
  const path = configFile('issuer: https://auth.example.com\nresources:\n  - audience: https://api.example.com\n    scopes: [orders:read]\n    descriptions:\n      orders:write: Change your orders\n');
  assert.throws(() => loadConfig({ configPath: path, env: {} }), /resources\.0\.descriptions\.orders:write: describes a scope this resource does not list/);
});
