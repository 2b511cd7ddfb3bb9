/**
 * The component boundaries DEVELOPERS.md states, checked on the source: the "may import" column
 * of its table is read here and every import in src/ and examples/ is held to it (the SDK's
 * transitive check is test/sdk-boundary.test.ts). One parser of imports: test/helpers/imports.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, componentOf, importSpecifiers, relativeImports, sourceFiles } from './helpers/imports.ts';

interface Row { key: string; folder: string; cell: string }

/** The rows of the "folder | holds | may import" table: `src/oauth/` → key `oauth`. */
function tableRows(): Row[] {
  const text = readFileSync(join(ROOT, 'DEVELOPERS.md'), 'utf8');
  return [...text.matchAll(/^\| `([^`]+)` \|[^|]*\| ([^|]+) \|$/gm)].map((m) => {
    const folder = m[1]!;
    return { key: componentOf(folder.replace(/\/$/, '/x.ts')), folder, cell: m[2]!.trim() };
  });
}

const rows = tableRows();
/** The components under src/ (examples/ is a consumer, not something to import). */
const components = rows.filter((row) => row.folder.startsWith('src/')).map((row) => row.key);

/** What a row's cell allows, besides the component itself. Unreadable cells fail loudly. */
function allowed(row: Row): Set<string> {
  const words = row.cell.split('—')[0]!.replace(/\([^)]*\)/g, '').split(/[,;]/).map((w) => w.trim()).filter(Boolean);
  const result = new Set<string>([row.key]);
  for (const word of words) {
    if (word === 'nothing' || word === 'nothing imports it') continue;
    if (word === 'everything') components.forEach((c) => result.add(c));
    else if (word === 'everything but the CLI') components.filter((c) => c !== 'cli').forEach((c) => result.add(c));
    else if (components.includes(word)) result.add(word);
    else assert.fail(`DEVELOPERS.md: cannot read "${word}" in the may-import cell of ${row.folder}`);
  }
  return result;
}

/** `file → target` for every relative import of `files` into src/ that `ok` refuses. */
function offending(files: string[], ok: (target: string) => boolean): string[] {
  return files.flatMap((file) => relativeImports(file).filter((target) => target.startsWith('src/') && !ok(target)).map((target) => `${file} → ${target}`));
}

test('ok: the parser finds every import form, and no commented one', () => {
  const source = [
    "import { a } from './static.ts';",
    'import type { B } from "./double.ts";',
    'import {\n  c,\n  d,\n} from \'./multi-line.ts\';',
    "export { e } from './re-export.ts';",
    "export * from './star.ts';",
    "import './side-effect.ts';",
    'import "./side-effect-double.ts";',
    "const lazy = await import('./dynamic.ts');",
    'const lazier = await import( "./dynamic-double.ts" );',
    " * import { never } from './in-a-comment.ts';",
    "// import './commented.ts';",
    "const text = 'import from here';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(source).sort(), [
    './double.ts', './dynamic-double.ts', './dynamic.ts', './multi-line.ts', './re-export.ts',
    './side-effect-double.ts', './side-effect.ts', './star.ts', './static.ts',
  ]);
});

test('ok: the parser finds the imports of the real source (a broken parser would pass every rule)', () => {
  assert.ok(relativeImports('src/service.ts').length >= 10, 'the composition root imports every component');
  assert.ok(sourceFiles('src').flatMap(relativeImports).length > 200);
});

test('ok: every folder under src/ has a row in the DEVELOPERS.md table', () => {
  const present = readdirSync(join(ROOT, 'src')).map((name) => componentOf(`src/${name}`));
  assert.deepEqual(present.filter((name) => !components.includes(name)), []);
});

for (const row of rows.filter((r) => r.folder.startsWith('src/'))) {
  const may = allowed(row);
  test(`ok: ${row.folder} imports only what DEVELOPERS.md allows (${[...may].filter((c) => c !== row.key).join(', ') || 'nothing'})`, () => {
    const files = row.folder.endsWith('/') ? sourceFiles(row.folder) : [row.folder];
    assert.deepEqual(offending(files, (target) => may.has(componentOf(target))), []);
  });
}

test('ok: policy is pure: besides its /policy endpoint (routes.ts) it imports only policy', () => {
  const pure = sourceFiles('src/policy').filter((file) => file !== 'src/policy/routes.ts');
  assert.ok(pure.length >= 3);
  assert.deepEqual(offending(pure, (target) => target.startsWith('src/policy/')), []);
});

test('ok: examples import only the public API (src/service.ts, src/process.ts, a component\'s index.ts, the shared toolbox)', () => {
  const isPublic = (target: string) => ['src/service.ts', 'src/process.ts'].includes(target) || /^src\/[a-z0-9]+\/index\.ts$/.test(target) || /^src\/shared\/[a-z0-9-]+\.ts$/.test(target);
  assert.deepEqual(offending(sourceFiles('examples'), isPublic), []);
});

test('ok: nothing imports the CLI except the CLI', () => {
  const outside = [...sourceFiles('src'), ...sourceFiles('examples'), ...sourceFiles('bench')].filter((f) => !f.startsWith('src/cli/'));
  assert.deepEqual(offending(outside, (target) => !target.startsWith('src/cli/')), []);
});

test('fail-detects-violation: the check catches a component importing what its row does not allow', () => {
  const sdk = allowed(rows.find((r) => r.key === 'sdk')!);
  // The CA's files held to the SDK's row: they import the store, which the SDK may not.
  assert.ok(offending(sourceFiles('src/pki'), (target) => sdk.has(componentOf(target))).some((line) => line.includes('→ src/store/')));
});
