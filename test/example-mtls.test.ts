/**
 * examples/mtls/run.ts as a real process next to a running service (what `npm run example:mtls`
 * does next to `npm start`): it must exit 0 having shown each step of the README.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startService, type TestService } from './helpers/service.ts';

const script = new URL('../examples/mtls/run.ts', import.meta.url).pathname;
let svc: TestService;

before(async () => { svc = await startService(); });
after(async () => { await svc.close(); });

test('ok: the mTLS example enrolls, allows orders → catalog, refuses catalog → orders, renews, and is cut off after revoke', async () => {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, GATEHOUSE_DATA_DIR: svc.dataDir, GATEHOUSE_CA_URL: svc.service.tlsUrl!, GATEHOUSE_DATABASE_URL: '', GATEHOUSE_ISSUER: svc.config.issuer, EXAMPLE_CERT_TTL: '6' },
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
