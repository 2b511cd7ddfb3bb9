/**
 * Benchmark plumbing: a Security Service in its own process pinned to one core (CPU_SUT, default 1),
 * the load generator on the other (CPU_LOAD, default 0), bounded load loops, markdown output.
 * All traffic stays on 127.0.0.1.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const CPU_SUT = process.env.CPU_SUT ?? '1';
export const CPU_LOAD = process.env.CPU_LOAD ?? '0';
export const DURATION_MS = Number(process.env.BENCH_SECONDS ?? 8) * 1000;
const ROOT = new URL('..', import.meta.url).pathname;
const NODE = process.execPath;
/** Extra node flags for the pinned Security Service, e.g. SERVICE_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof; the service exits on SIGTERM, so the profile is written). */
const SERVICE_NODE_FLAGS = (process.env.SERVICE_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

export function pinSelf(): void {
  try { execFileSync('taskset', ['-cp', CPU_LOAD, String(process.pid)], { stdio: 'ignore' }); } catch { /* taskset missing: unpinned */ }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs the gatehouse CLI (unpinned) against a data dir; returns stdout. */
export function cli(dataDir: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(NODE, [join(ROOT, 'src/cli/main.ts'), '--data-dir', dataDir, ...args], {
    encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface BenchService {
  url: string;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  /** CPU seconds (user + system, all threads) the service process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** utime + stime of a process from /proc, in seconds. */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts `gatehouse serve auth` pinned to CPU_SUT with a fresh data dir and waits until ready. */
export async function startPinnedService(extraEnv: NodeJS.ProcessEnv = {}, configYaml?: string): Promise<BenchService> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const port = await freePort();
  const tlsPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_ISSUER: `http://127.0.0.1:${port}`,
    GATEHOUSE_LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  const configPath = join(dataDir, 'gatehouse.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(configPath, `listen:\n  port: ${port}\n  tlsPort: ${tlsPort}\nresources:\n  - audience: http://127.0.0.1:${port}/api\n    scopes: [books:read]\n${configYaml ?? ''}`);
  // Migrate and create keys before pinning, so start-up work is not measured.
  cli(dataDir, ['--config', configPath, 'migrate'], env);
  const child: ChildProcess = spawn('taskset', ['-c', CPU_SUT, NODE, ...SERVICE_NODE_FLAGS, join(ROOT, 'src/cli/main.ts'), '--config', configPath, '--data-dir', dataDir, 'serve', 'auth'], {
    env, stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('service did not become ready in 30 s');
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    env: { ...env, GATEHOUSE_CONFIG: configPath },
    cpuSeconds: () => processCpuSeconds(child.pid!),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LoadResult { ok: number; failed: number; seconds: number; perSecond: number; p50: number; p99: number }

/** `concurrency` loops each calling `once()` until the time is up (bounded), or earlier once `stop()` says so. */
export async function runLoad(concurrency: number, durationMs: number, once: (worker: number) => Promise<boolean>, stop: () => boolean = () => false): Promise<LoadResult> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const start = performance.now();
  const end = start + durationMs;
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (performance.now() < end && !stop()) {
      const t = performance.now();
      let success = false;
      try { success = await once(worker); } catch { success = false; }
      latencies.push(performance.now() - t);
      if (success) ok++; else failed++;
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? 0;
  return { ok, failed, seconds, perSecond: ok / seconds, p50: at(0.5), p99: at(0.99) };
}

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** `abc1234`, or `abc1234 (with uncommitted changes)`: the checkout at `root` a benchmark measured. */
export function commitLabel(root: string): string {
  const git = (args: string[]) => execFileSync('git', ['-C', root, ...args], { encoding: 'utf8' }).trim();
  return `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--untracked-files=no']) === '' ? '' : ' (with uncommitted changes)'}`;
}
