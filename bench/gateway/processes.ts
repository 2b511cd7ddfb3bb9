/**
 * Processes of the gateway benchmark: each one started in its own session and process group
 * (`detached` = setsid(2)) under `taskset` on a named core, its output to a log file, stopped by
 * its group id (SIGTERM, then SIGKILL after 5 s). CPU time is read from /proc for the whole
 * group, so a server's helper processes and threads count. Only processes started here are ever
 * signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../lib.ts';

export const CPU_SUT = process.env.CPU_SUT ?? '1';
export const CPU_LOAD = process.env.CPU_LOAD ?? '0';
const CLK_TCK = 100; // USER_HZ on Linux

export interface Pinned {
  name: string;
  /** Process id = process-group id (the process is its group's leader). */
  pid: number;
  logFile: string;
  /** utime + stime of every process in the group, in seconds. */
  cpuSeconds(): number;
  /** Sum of VmHWM (peak RSS) of the group's processes, KiB. */
  peakRssKb(): number;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<Pinned>();

/** Stops whatever this harness started when it exits early (Ctrl-C, a thrown error). */
function stopAllSync(): void {
  for (const p of running) {
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* already gone */ }
  }
}
process.once('exit', stopAllSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { stopAllSync(); process.exit(130); });

/**
 * Starts `command` pinned to `cpu` in a new session; stdout and stderr go to `logFile`. `wrapper`
 * goes before the command (`valgrind --tool=callgrind …`: it runs the program in its own process,
 * so the pid stays the program's).
 */
export function startPinned(name: string, cpu: string, command: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; wrapper?: readonly string[] | undefined }): Pinned {
  const fd = openSync(options.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('taskset', ['-c', cpu, ...(options.wrapper ?? []), ...command], { detached: true, stdio: ['ignore', fd, fd], env: options.env ?? process.env, cwd: options.cwd });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${command[0]}`);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
  const pinned: Pinned = {
    name,
    pid,
    logFile: options.logFile,
    cpuSeconds: () => groupTicks(pid) / CLK_TCK,
    peakRssKb: () => groupPids(pid).reduce((sum, p) => sum + peakRss(p), 0),
    exited,
    async stop() {
      running.delete(pinned);
      try { process.kill(-pid, 'SIGTERM'); } catch { return; }
      const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        try { process.kill(-pid, 'SIGKILL'); } catch { /* gone meanwhile */ }
        await exited;
      }
    },
  };
  running.add(pinned);
  return pinned;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Fields of /proc/<pid>/stat after the command name: [0] = state, [2] = pgrp, [11] = utime, [12] = stime. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined; // exited meanwhile
  }
}

function groupPids(pgid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (statFields(entry)?.[2] === String(pgid)) pids.push(Number(entry));
  }
  return pids;
}

function groupTicks(pgid: number): number {
  let ticks = 0;
  for (const pid of groupPids(pgid)) {
    const fields = statFields(pid);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks;
}

function peakRss(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Machine-wide CPU seconds from /proc/stat: busy (user+nice+system+irq+softirq+steal), steal, and busy per core. */
export interface MachineCpu { busy: number; steal: number; sutCore: number; loadCore: number }

export function machineCpu(): MachineCpu {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n');
  const busyOf = (label: string) => {
    const f = lines.find((line) => line.startsWith(`${label} `))?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busy: (user + nice + system + irq + softirq + steal) / CLK_TCK, steal: steal / CLK_TCK };
  };
  const all = busyOf('cpu');
  return { busy: all.busy, steal: all.steal, sutCore: busyOf(`cpu${CPU_SUT}`).busy, loadCore: busyOf(`cpu${CPU_LOAD}`).busy };
}

/** utime + stime of this harness process so far, seconds. */
export function selfCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

export { freePort } from '../lib.ts';

/** Waits until `url` answers HTTP at all (any status), or throws after `ms`; each try waits `attemptMs` for its answer. */
export async function waitHttp(url: string, ms = 30_000, ok: (status: number) => boolean = () => true, attemptMs = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(attemptMs) });
      await res.arrayBuffer();
      if (ok(res.status)) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${ms / 1000} s`);
    await sleep(100);
  }
}

/** Pins an already running process (all its threads) to `cpus`, e.g. to lend the issuer both cores while it mints tokens. */
export async function repin(pid: number, cpus: string): Promise<void> {
  const child = spawn('taskset', ['-a', '-cp', cpus, String(pid)], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Whether `command` can be run (found on PATH). */
export async function available(command: string, args: string[]): Promise<boolean> {
  const child = spawn(command, args, { stdio: 'ignore' });
  return new Promise((resolve) => {
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(true));
  });
}

/** The benchmark's upstream (./anchors/upstream.ts) on the load core; resolves once it answers. */
export async function startUpstream(workDir: string): Promise<{ process: Pinned; url: string }> {
  const port = await freePort();
  const upstream = startPinned('upstream', CPU_LOAD, [process.execPath, new URL('./anchors/upstream.ts', import.meta.url).pathname], {
    env: { ...process.env, PORT: String(port), NODE_ENV: 'production' }, logFile: join(workDir, 'upstream.log'),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/`);
  return { process: upstream, url };
}

/** A timestamped progress line on stderr (stdout is the markdown result). */
export const log = (line: string): void => { process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`); };

/** wrk's load and the windows, from the environment, with each benchmark's defaults. */
export function loadSettings(defaults: { duration: string; warmup: string; passes: number }): { duration: string; warmup: string; passes: number; connections: number; threads: number } {
  const env = process.env;
  return {
    duration: env.DURATION ?? defaults.duration,
    warmup: env.WARMUP ?? defaults.warmup,
    passes: Number(env.PASSES ?? defaults.passes),
    connections: Number(env.CONNS ?? 50),
    threads: Number(env.THREADS ?? 1),
  };
}
