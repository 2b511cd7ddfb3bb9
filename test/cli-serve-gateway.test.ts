/** `gatehouse serve gateway` as a real process: starts alone (the Security Service may be away), JSON log lines, SIGTERM, one-line failures. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './helpers/service.ts';
import { runCli, cliEntry, cliEnv } from './helpers/cli.ts';

const unset: NodeJS.ProcessEnv = { GATEHOUSE_CONFIG: undefined, GATEHOUSE_DATA_DIR: undefined, GATEHOUSE_GATEWAY_PORT: undefined };
let dir: string;
before(() => { dir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-gateway-')); });
after(() => { rmSync(dir, { recursive: true, force: true }); });

test('ok: serve gateway listens on GATEHOUSE_GATEWAY_PORT, answers /healthz, reports /readyz, exits 0 on SIGTERM', async () => {
  const [port, nowhere] = [await freePort(), await freePort()];
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, `issuer: http://127.0.0.1:${nowhere}\nservices:\n  api: ["http://127.0.0.1:${nowhere}"]\nroutes:\n  - { methods: [GET], path: /api/open, service: api, auth: public }\nlog:\n  level: info\n`);
  const child = spawn(process.execPath, [cliEntry, '--config', file, 'serve', 'gateway'], { env: cliEnv({ ...unset, GATEHOUSE_GATEWAY_PORT: String(port) }), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => { stdout += chunk; });
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = once(child, 'exit');
  try {
    let health: Response | undefined;
    for (let i = 0; i < 150 && health?.status !== 200; i++) {
      if (child.exitCode !== null) break;
      health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      if (health?.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(health?.status, 200, stdout + stderr);
    // The same process, executed again with V8's memory reducer off (src/cli/commands/serve.ts).
    const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    assert.equal(commandLine.filter((arg) => arg === '--no-memory-reducer').length, 1, commandLine.join(' '));
    assert.ok(commandLine.includes('serve') && commandLine.includes('gateway'), commandLine.join(' '));
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal((await fetch(`http://127.0.0.1:${port}/api/open`)).status, 502);
  } finally {
    child.kill('SIGTERM');
  }
  const [code, signal] = await exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, stdout + stderr);
  const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.ok(lines.some((line) => line.msg === 'gateway listening' && line.url === `http://127.0.0.1:${port}`), stdout);
  assert.ok(lines.some((line) => line.msg === 'request' && line.path === '/api/open' && line.status === 502), 'the access log was flushed before exit');
});

test('fail-bad-routes: a route naming an unknown service stops the start with one line', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'routes:\n  - { methods: [GET], path: /api/x, service: nowhere }\n');
  const result = runCli(['--config', file, 'serve', 'gateway'], { env: unset, cwd: dir });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^gatehouse: bad\.yaml routes\[0\]\.service: unknown service "nowhere" \(services: \(none\)\)\n$/);
});
