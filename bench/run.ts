/**
 * `npm run bench [-- token pki flood match gateway api-token rate-limit instructions]` — runs the benchmarks one after another (each in its own process,
 * bounded in time, loopback only) and prints their markdown. Results are recorded in BENCHMARKS.md. Without names it runs all but
 * `instructions` (≈ 25 min under valgrind), which runs only when named.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const BENCHES: Record<string, string> = {
  token: 'token-endpoint.ts',
  pki: 'pki.ts',
  flood: 'login-flood.ts',
  match: 'gateway-match.ts',
  gateway: 'gateway.ts',
  'gateway-overhead': 'gateway-overhead.ts',
  'api-token': 'api-token.ts',
  'rate-limit': 'gateway-rate-limit.ts',
  instructions: 'gateway-instructions.ts',
};
/** Run only when named: too long for the default run. */
const ONLY_WHEN_NAMED = new Set(['instructions']);
/** Longest a benchmark may run; the gateway benchmark runs 7 targets × PASSES windows plus the revocation samples. */
const TIMEOUT_MINUTES: Record<string, number> = { gateway: 30, instructions: 60 };

const chosen = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(BENCHES).filter((name) => !ONLY_WHEN_NAMED.has(name));
console.log(`# Gatehouse benchmarks — ${new Date().toISOString()}\n`);
console.log(`Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`);
let failed = false;
for (const name of chosen) {
  const file = BENCHES[name];
  if (!file) {
    console.error(`unknown benchmark ${name}; choose from: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  // The PKI benchmark runs client and server in one thread: pin it to one core, as the target says.
  // The token benchmark pins its own service process and keeps the load on the other core.
  const command = name === 'pki' ? ['taskset', ['-c', process.env.CPU_SUT ?? '1', process.execPath, new URL(file, import.meta.url).pathname]] as const : [process.execPath, [new URL(file, import.meta.url).pathname]] as const;
  const result = spawnSync(command[0], [...command[1]], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', timeout: (TIMEOUT_MINUTES[name] ?? 5) * 60_000 });
  console.log(`\n## ${name} (\`npm run bench -- ${name}\`)\n`);
  console.log(result.stdout.trim());
  if (result.status !== 0) {
    console.error(`benchmark ${name} failed (exit ${result.status ?? result.signal})`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
