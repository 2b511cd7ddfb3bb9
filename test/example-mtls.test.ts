/**
 * examples/mtls/run.ts as a real process next to a running service (what `npm run example:mtls`
 * does next to `npm start`): it must exit 0 having shown each step of the README.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, freePort, type TestService } from './helpers/service.ts';

const script = new URL('../examples/mtls/run.ts', import.meta.url).pathname;
let svc: TestService;

before(async () => { svc = await startService(); });
after(async () => { await svc.close(); });

test('ok: the mTLS example enrolls, allows orders → catalog, refuses catalog → orders, renews, and is cut off after revoke', async () => {
  // The same gatehouse.yaml the service would read: the CA's TLS port comes from it.
  const config = join(svc.dataDir, 'gatehouse.yaml');
  writeFileSync(config, `issuer: ${svc.config.issuer}\nlisten:\n  port: ${svc.config.listen.port}\n  tlsPort: ${svc.config.listen.tlsPort}\n`);
  const child = spawn(process.execPath, [script, '--config', config, '--data-dir', svc.dataDir], {
    env: { ...process.env, GATEHOUSE_CA_URL: '', GATEHOUSE_DATABASE_URL: '', GATEHOUSE_ISSUER: '', GATEHOUSE_PORT: '', EXAMPLE_CERT_TTL: '6' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(killer);
  assert.equal(code, 0, output);
  assert.match(output, /orders\s+GET \/books\/1 → 200 .*"servedTo":"spiffe:\/\/[^"]+\/svc\/orders"/);
  assert.match(output, /catalog\s+GET \/orders → 403/);
  assert.match(output, /orders\s+renewed: serial [a-f0-9]+/);
  assert.match(output, /orders was cut off [0-9.]+ s after the revocation/);
  assert.match(output, /done: every step behaved as expected/);
  const beforeRevocation = output.slice(0, output.indexOf('revoking orders'));
  assert.doesNotMatch(beforeRevocation, /→ failed/, 'no call failed while certificates renewed');
});

test('fail-not-running: without a running service the example says so in one line with a hint, no stack trace', async () => {
  const config = join(svc.dataDir, 'nobody-listens.yaml');
  writeFileSync(config, `listen:\n  tlsPort: ${await freePort()}\n`);
  const child = spawn(process.execPath, [script, '--config', config, '--data-dir', svc.dataDir], {
    env: { ...process.env, GATEHOUSE_CA_URL: '', GATEHOUSE_DATABASE_URL: '', GATEHOUSE_ISSUER: '', GATEHOUSE_PORT: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(stderr, /^example:mtls: the Security Service's CA is not reachable at https:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): start it first with `npm start`/);
  assert.equal(stderr.trim().split('\n').length, 1, stderr);
});
