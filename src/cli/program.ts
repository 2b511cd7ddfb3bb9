/**
 * Shared CLI plumbing: global options, loading config + context, one-line errors, exit codes.
 * Commands live one per file in ./commands and contain no logic of their own: parse, call a
 * component, print.
 */
import { Command } from 'commander';
import { exitWithFailure } from '../process.ts';
import { loadConfig, type Config } from '../config/index.ts';
import { createContext, closeContext, type ServiceContext } from '../service.ts';
import { silentLogger, createLogger } from '../shared/logger.ts';

export interface GlobalOptions {
  config?: string;
  dataDir?: string;
}

/** Options of the root command, as commander parsed them. */
export function globalOptions(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/** The validated configuration: file, env, then the global flags (and a command's own `--port`). */
export function configFrom(command: Command, flags: { port?: string | undefined } = {}): Config & { source: string } {
  const options = globalOptions(command);
  return loadConfig({ configPath: options.config, dataDir: options.dataDir, port: flags.port });
}

/** Runs `work` with a full context (store migrated, components built), then closes it. */
export async function withContext<T>(command: Command, work: (context: ServiceContext) => Promise<T>, opts: { verbose?: boolean } = {}): Promise<T> {
  const config = configFrom(command);
  const logger = opts.verbose ? createLogger({ level: config.log.level, pretty: config.log.pretty }) : silentLogger();
  const context = await createContext({ config, logger });
  try {
    return await work(context);
  } finally {
    await closeContext(context);
  }
}

/** A one-line error on stderr and a non-zero exit: never a stack trace. */
export function reportFailure(error: unknown): never {
  if (error instanceof CliUsageError) {
    console.error(`gatehouse: ${error.message}`);
    process.exit(2);
  }
  exitWithFailure(error);
}

/**
 * commander's usage error text (`error: unknown option '--x'` plus a suggestion line) as the one
 * line we print: `gatehouse: unknown option '--x' (Did you mean --y?); see --help`.
 */
export function usageLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const message = lines.join(' ').replace(/^error:\s*/i, '');
  return `gatehouse: ${message}; see --help\n`;
}

/** Wrong usage detected after parsing (mutually exclusive flags and the like). */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** Prints rows as an aligned table, or as JSON with --json. */
export function printRows(rows: Array<Record<string, unknown>>, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const columns = Object.keys(rows[0]!);
  const cell = (value: unknown) => (value === null || value === undefined ? '-' : Array.isArray(value) ? value.join(',') : String(value));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  console.log(columns.map((c, i) => c.toUpperCase().padEnd(widths[i]!)).join('  ').trimEnd());
  for (const row of rows) console.log(columns.map((c, i) => cell(row[c]).padEnd(widths[i]!)).join('  ').trimEnd());
}
