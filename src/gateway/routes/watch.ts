/**
 * Live route reloads: on a change of the config file or the routes file (debounced), and on
 * SIGHUP. A reload re-reads `routes` from both files and compiles them against the services and
 * CORS policies the gateway started with (those, and every other key, need a restart). A bad
 * file never replaces the running table: the caller gets one line saying why, and the old rules
 * stay.
 *
 * The watch is on each file's directory, not the file: editors that save by writing a new file
 * and renaming it over the old one would leave a file watch looking at a deleted inode.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Config } from '../../config/index.ts';
import { loadRouteTable, routesFilePath } from './load.ts';
import { RouteLoadError, type RouteTable } from './types.ts';

export interface WatchRoutesOptions {
  config: Config & { source: string };
  onReload(table: RouteTable): void;
  /** One line: which file, what is wrong; the running table is unchanged. */
  onRejected(message: string): void;
  signal?: AbortSignal;
  /** Quiet time after the last file event before reloading (editors write in bursts). */
  debounceMs?: number;
}

function contents(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    return `(unreadable: ${(error as NodeJS.ErrnoException).code})`;
  }
}

export function watchRoutes(options: WatchRoutesOptions): { close(): void } {
  const { config, onReload, onRejected } = options;
  const files = [config.source === 'defaults' ? undefined : config.source, routesFilePath(config)].filter((f): f is string => f !== undefined);
  const snapshot = () => files.map(contents).join('\0');
  let last = snapshot();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** `force` (SIGHUP) reloads even when the files read the same as at the last attempt. */
  const reload = (force: boolean) => {
    if (closed) return;
    const now = snapshot();
    if (!force && now === last) return;
    last = now;
    let table: RouteTable;
    try {
      table = loadRouteTable(config, { rereadConfig: true });
    } catch (error) {
      const problems = error instanceof RouteLoadError ? error.problems : [(error as Error).message];
      onRejected(`routes reload refused, the previous rules stay: ${problems.join('; ')}`);
      return;
    }
    onReload(table);
  };

  const watchers: FSWatcher[] = [];
  const byDirectory = new Map<string, Set<string>>();
  for (const file of files) {
    const names = byDirectory.get(dirname(file)) ?? new Set();
    names.add(basename(file));
    byDirectory.set(dirname(file), names);
  }
  for (const [directory, names] of byDirectory) {
    try {
      const watcher = watch(directory, { persistent: false }, (_event, name) => {
        if (name !== null && !names.has(name)) return;
        clearTimeout(timer);
        timer = setTimeout(() => reload(false), options.debounceMs ?? 100);
      });
      watcher.on('error', () => {}); // the directory went away: SIGHUP still reloads
      watchers.push(watcher);
    } catch (error) {
      onRejected(`cannot watch ${directory} for route changes (${(error as NodeJS.ErrnoException).code ?? 'error'}); SIGHUP still reloads`);
    }
  }
  const onHangup = () => reload(true);
  process.on('SIGHUP', onHangup);

  const close = () => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
    process.off('SIGHUP', onHangup);
  };
  options.signal?.addEventListener('abort', close, { once: true });
  return { close };
}
