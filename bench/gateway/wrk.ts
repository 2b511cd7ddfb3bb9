/**
 * wrk (the Debian package) on the load core. A Lua script adds the bearer token(s) and prints one
 * `JSON:` line with the numbers; bash's `times` after wrk gives wrk's own CPU time, so a window's
 * CPU can be accounted for process by process.
 */
import { spawn } from 'node:child_process';
import { CPU_LOAD } from './processes.ts';

export const WRK = process.env.WRK ?? 'wrk';
const LUA_DIR = new URL('./lua/', import.meta.url).pathname;

export interface WrkNumbers {
  requests: number;
  duration_us: number;
  rps: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
  err_connect: number;
  err_read: number;
  err_write: number;
  err_status: number;
  err_timeout: number;
}

export interface WrkRun { numbers: WrkNumbers; output: string; cpuSeconds: number }

/** One bearer token, a file of them (one per request), or one whole Authorization header value (Basic …). */
export type TokenFeed = { kind: 'one'; token: string } | { kind: 'file'; file: string; start: number } | { kind: 'authorization'; value: string };

export interface WrkOptions { url: string; duration: string; connections: number; threads: number; feed: TokenFeed }

export function errorsOf(n: WrkNumbers): number {
  return n.err_connect + n.err_read + n.err_write + n.err_status + n.err_timeout;
}

/** Runs wrk pinned to CPU_LOAD; bounded by its duration plus a minute. */
export function runWrk(options: WrkOptions): Promise<WrkRun> {
  const script = options.feed.kind === 'one' ? 'bearer.lua' : options.feed.kind === 'authorization' ? 'authorization.lua' : 'token-file.lua';
  const env: NodeJS.ProcessEnv = { ...process.env, WRK_THREADS: String(options.threads), WRK_REPORT_LUA: `${LUA_DIR}report.lua` };
  if (options.feed.kind === 'one') env.BEARER_TOKEN = options.feed.token;
  else if (options.feed.kind === 'authorization') env.AUTHORIZATION = options.feed.value;
  else Object.assign(env, { TOKEN_FILE: options.feed.file, TOKEN_START: String(options.feed.start) });
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.duration}`, '--latency', '-s', LUA_DIR + script, options.url];
  // `times` prints the shell's and then its children's user/system time: the second line is wrk's.
  const shell = 'taskset -c "$0" "$@"; status=$?; times >&2; exit $status';
  const child = spawn('bash', ['-c', shell, CPU_LOAD, WRK, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), (seconds(options.duration) + 60) * 1000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const json = /^JSON:(.*)$/m.exec(stdout)?.[1];
      if (code !== 0 || json === undefined) {
        reject(new Error(`wrk failed (exit ${code}): ${(stderr || stdout).trim().split('\n').slice(0, 3).join(' | ')}`));
        return;
      }
      resolve({ numbers: JSON.parse(json) as WrkNumbers, output: stdout, cpuSeconds: childTimes(stderr) });
    });
  });
}

/** `0m1.234s 0m0.567s` (the second line of `times`) → seconds. */
function childTimes(stderr: string): number {
  const lines = stderr.trim().split('\n').filter((line) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(line.trim()));
  const line = lines.at(-1);
  if (line === undefined) return 0;
  return line.trim().split(' ').reduce((sum, part) => {
    const [m = '0', s = '0'] = part.replace('s', '').split('m');
    return sum + Number(m) * 60 + Number(s);
  }, 0);
}

/** wrk's duration syntax (`10s`, `2m`, `500ms` is not wrk's) → seconds. */
export function seconds(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)?$/.exec(duration);
  if (!match) throw new Error(`not a wrk duration: ${duration} (use e.g. 10s or 1m)`);
  return Number(match[1]) * ({ s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h' | undefined ?? 's']);
}
