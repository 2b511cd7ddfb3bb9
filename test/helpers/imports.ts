/**
 * One parser of import statements for the boundary tests (test/boundaries.test.ts,
 * test/sdk-boundary.test.ts): every form that makes Node load a module counts — static
 * `import … from`, `export … from`, side-effect `import '…'` and dynamic `import('…')`, in single or
 * double quotes, over several lines, type-only ones included (they are still a dependency).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The repository root; paths below are relative to it (`src/oauth/index.ts`). */
export const ROOT = resolve(new URL('../..', import.meta.url).pathname);

// A statement starts a line, so JSDoc lines (` * import …`) and `//` comments do not match.
const STATIC = /^[ \t]*(?:import|export)\b[^;'"]*?\bfrom\s*(['"])([^'"\n]+)\1/gm;
const SIDE_EFFECT = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** Every module specifier `source` imports, in no particular order (duplicates kept). */
export function importSpecifiers(source: string): string[] {
  return [STATIC, SIDE_EFFECT, DYNAMIC].flatMap((pattern) => [...source.matchAll(pattern)].map((m) => m[2]!));
}

/** The relative imports of `file`, resolved to repository paths. */
export function relativeImports(file: string): string[] {
  const source = readFileSync(join(ROOT, file), 'utf8');
  return importSpecifiers(source)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(ROOT, resolve(dirname(join(ROOT, file)), spec)));
}

/** The `.ts` files under `dir` (a repository path), tests excluded; none if `dir` does not exist. */
export function sourceFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(ROOT, dir));
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Every file reachable from `entry` by relative imports (the entry included). */
export function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...relativeImports(file));
  }
  return [...seen];
}

/** The component a repository path belongs to: `src/oauth/x.ts` → `oauth`, `src/service.ts` → `service.ts`. */
export function componentOf(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'src' ? parts[1]! : parts[0]!;
}
