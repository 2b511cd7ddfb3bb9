import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { issueMessage } from '../shared/validation.ts';
import { configSchema, type Config } from './schema.ts';

/** Invalid configuration: the message names every bad key path and what was expected. */
export class ConfigError extends Error {
  readonly issues: string[];
  constructor(source: string, issues: string[]) {
    super(`invalid configuration in ${source}:\n  - ${issues.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadOptions {
  /** Path given with --config; otherwise GATEHOUSE_CONFIG, otherwise ./gatehouse.yaml if present. */
  configPath?: string | undefined;
  /** --data-dir; wins over the file and GATEHOUSE_DATA_DIR. */
  dataDir?: string | undefined;
  /** --port, as typed; wins over the file and GATEHOUSE_PORT (listen.port). */
  port?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values that win over the file (used by tests and the demo). */
  overrides?: Record<string, unknown>;
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    const inner = 'issues' in issue && Array.isArray(issue.issues) && issue.issues.length > 0
      ? `: ${(issue.issues as z.core.$ZodIssue[]).map((i) => i.message).join('; ')}`
      : '';
    return `${path}: ${issue.message}${inner}`;
  });
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A port given as text (env, flag): an integer 0–65535, or a ConfigError naming where it came from. */
function parsePort(text: string, name: string, source: string): number {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(port >= 0 && port <= 65535)) throw new ConfigError(source, [`${name}: expected a port number 0–65535, received ${JSON.stringify(text)}`]);
  return port;
}

/** Reads, merges (file < env < flags < overrides) and validates the configuration once. */
export function loadConfig(options: LoadOptions = {}): Config & { source: string } {
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? (env.GATEHOUSE_CONFIG || undefined);
  const path = explicit ?? (existsSync('gatehouse.yaml') ? 'gatehouse.yaml' : undefined);
  let raw: Record<string, unknown> = {};
  let source = 'defaults';
  if (path !== undefined) {
    source = resolve(path);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(source, [`cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text) ?? {};
    } catch (error) {
      throw new ConfigError(source, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
    }
    if (!isPlainObject(parsed)) throw new ConfigError(source, ['(root): expected a mapping of keys']);
    raw = parsed;
  }
  const fromEnv: Record<string, unknown> = {};
  if (env.GATEHOUSE_DATA_DIR) fromEnv.dataDir = env.GATEHOUSE_DATA_DIR;
  if (env.GATEHOUSE_DATABASE_URL) fromEnv.database = { url: env.GATEHOUSE_DATABASE_URL };
  if (env.GATEHOUSE_ISSUER) fromEnv.issuer = env.GATEHOUSE_ISSUER;
  if (env.GATEHOUSE_LOG_LEVEL) fromEnv.log = { level: env.GATEHOUSE_LOG_LEVEL };
  if (env.GATEHOUSE_PORT) fromEnv.listen = { port: parsePort(env.GATEHOUSE_PORT, 'GATEHOUSE_PORT', source) };
  let merged = deepMerge(raw, fromEnv);
  if (options.dataDir !== undefined) merged = deepMerge(merged, { dataDir: options.dataDir });
  if (options.port !== undefined) merged = deepMerge(merged, { listen: { port: parsePort(options.port, '--port', source) } });
  if (options.overrides) merged = deepMerge(merged, options.overrides);
  const result = configSchema.safeParse(merged, { error: issueMessage });
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return { ...result.data, source };
}
