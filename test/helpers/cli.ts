/** Runs the real `gatehouse` CLI in a child process, as a user would. */
import { spawnSync } from 'node:child_process';

export const cliEntry = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface CliOptions {
  /** Passed as `--data-dir` before the arguments. */
  dataDir?: string;
  /** Overrides on top of the test's environment; a key set to undefined is removed. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the command's stdin. */
  input?: string;
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** The environment the CLI runs in: the test's own, on SQLite (no inherited database URL), plus `overrides`. */
export function cliEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATABASE_URL: '', ...overrides };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  return env;
}

/** process.execPath is the Node 24 that runs the tests (npm test puts it first on PATH). */
export function runCli(args: string[], options: CliOptions = {}): CliResult {
  const argv = options.dataDir === undefined ? args : ['--data-dir', options.dataDir, ...args];
  const result = spawnSync(process.execPath, [cliEntry, ...argv], { encoding: 'utf8', env: cliEnv(options.env), cwd: options.cwd, input: options.input });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
