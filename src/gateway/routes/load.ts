/**
 * Where route rules come from: `routes` in gatehouse.yaml and the optional `gateway.routesFile`
 * (a YAML file holding a `routes:` list, relative to the config file's directory). Each rule is
 * labelled with its source (`routes.yaml routes[2]`) so every problem and every `explain` line
 * says where to look.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { routeSchema } from '../../config/gateway-schema.ts';
import type { Config } from '../../config/index.ts';
import { issueMessage } from '../../shared/validation.ts';
import { compileRoutes } from './compile.ts';
import { RouteLoadError, type RouteConfig, type RouteTable } from './types.ts';

type LoadedConfig = Config & { source: string };

/** The config file as rules name it: `gatehouse.yaml`, or `defaults` when there is no file. */
export function configLabel(config: LoadedConfig): string {
  return config.source === 'defaults' ? 'defaults' : basename(config.source);
}

/** The absolute path of `gateway.routesFile`, if set. */
export function routesFilePath(config: LoadedConfig): string | undefined {
  const file = config.gateway.routesFile;
  if (file === undefined) return undefined;
  return resolve(config.source === 'defaults' ? process.cwd() : dirname(config.source), file);
}

/** The files the table is read from, as `routes check` names them. */
export function routeSources(config: LoadedConfig): string[] {
  const file = routesFilePath(config);
  return file === undefined ? [configLabel(config)] : [configLabel(config), basename(file)];
}

/** `['routes', 2, 'methods', 0]` → `routes[2].methods[0]`. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function readYaml(path: string, label: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RouteLoadError([`${label}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  // An empty file is refused rather than read as "no routes": an editor that truncates before it
  // writes would otherwise drop every route for a moment.
  if (text.trim() === '') throw new RouteLoadError([`${label}: the file is empty (expected a routes: list)`]);
  try {
    return parseYaml(text);
  } catch (error) {
    throw new RouteLoadError([`${label}: not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
}

type Labelled = { rule: RouteConfig; source: string };

/**
 * Validates each rule on its own, so one bad rule does not hide the problems of the others:
 * valid rules go on to compilation (which finds overlaps, unknown services …), every schema
 * problem is collected in `problems`.
 */
function rulesOf(list: unknown, label: string, problems: string[]): Labelled[] {
  if (!Array.isArray(list)) {
    problems.push(`${label} routes: expected a list of rules`);
    return [];
  }
  const rules: Labelled[] = [];
  list.forEach((value, i) => {
    const result = routeSchema.safeParse(value, { error: issueMessage });
    if (result.success) rules.push({ rule: result.data, source: `${label} routes[${i}]` });
    else problems.push(...result.error.issues.map((issue) => `${label} ${keyPath(['routes', i, ...issue.path])}: ${issue.message}`));
  });
  return rules;
}

function routesKey(document: unknown, label: string, problems: string[], onlyKey: boolean): unknown {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    problems.push(`${label}: expected a mapping with a routes: list`);
    return [];
  }
  const keys = Object.keys(document);
  if (onlyKey) for (const key of keys.filter((k) => k !== 'routes')) problems.push(`${label} ${key}: unknown key (a routes file holds only routes:)`);
  return (document as Record<string, unknown>).routes ?? (onlyKey ? undefined : []);
}

/**
 * Compiles `config.routes` and the routes file against the configured services and CORS
 * policies. `rereadConfig`: take `routes` from the config file as it is now (a reload; other keys
 * need a restart) instead of from `config`. Throws RouteLoadError with every problem.
 */
export function loadRouteTable(config: LoadedConfig, options: { rereadConfig?: boolean } = {}): RouteTable {
  const problems: string[] = [];
  const label = configLabel(config);
  const routes = options.rereadConfig && config.source !== 'defaults'
    ? rulesOf(routesKey(readYaml(config.source, label), label, problems, false), label, problems)
    : config.routes.map((rule, i) => ({ rule, source: `${label} routes[${i}]` }));
  const file = routesFilePath(config);
  if (file !== undefined) {
    const fileLabel = basename(file);
    routes.push(...rulesOf(routesKey(readYaml(file, fileLabel), fileLabel, problems, true), fileLabel, problems));
  }
  try {
    const table = compileRoutes({ routes, services: config.services, corsPolicies: Object.keys(config.gateway.cors) });
    if (problems.length === 0) return table;
  } catch (error) {
    if (!(error instanceof RouteLoadError)) throw error;
    problems.push(...error.problems);
  }
  throw new RouteLoadError(problems);
}
