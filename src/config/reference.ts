/**
 * Renders the configuration reference (docs/configuration.md) from the zod schema, so the
 * documentation cannot drift from what is validated. `gatehouse config docs` prints it; a test
 * compares it with the committed file.
 */
import { z } from 'zod';
import { configSchema } from './schema.ts';

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  /** A default computed from other keys (`.meta({ computedDefault })` in the schema), shown as written. */
  computedDefault?: string;
}

function describeType(schema: JsonSchema): string {
  if (schema.anyOf) {
    const isDuration = schema.anyOf.some((s) => s.pattern?.includes('ms|s|m|h|d'));
    if (isDuration) return 'duration';
    return schema.anyOf.map(describeType).join(" or ");
  }
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(", ");
  if (schema.type === 'array') return `list of ${schema.items ? describeType(schema.items) : 'any'}`;
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return `map of ${describeType(schema.additionalProperties)}`;
  }
  if (schema.format === 'uri') return 'URL';
  const bound = (n: number | undefined) => (n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n);
  const min = bound(schema.minimum);
  const max = bound(schema.maximum);
  const range = min !== undefined && max !== undefined ? ` (${min}–${max})` : min !== undefined ? ` (≥ ${min})` : max !== undefined ? ` (≤ ${max})` : '';
  return `${Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any')}${range}`;
}

function humanSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** The default of a key, read from what the schema produces for an empty file (the JSON Schema
 * export drops defaults of transformed types such as durations). */
function describeDefault(path: string, type: string, defaults: Record<string, unknown>, declared: unknown): string {
  let value: unknown = defaults;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  // Keys inside an optional section have no value in the empty-file parse: show the declared default.
  value ??= declared;
  if (value === undefined) return '—';
  if (type === 'duration' && typeof value === 'number') return `\`${humanSeconds(value)}\``;
  const text = JSON.stringify(value);
  return text.length > 80 ? 'see below' : `\`${text}\``;
}

/** Appends this object's own keys to `out` and one section per nested object to `sections`, after them. */
function rows(schema: JsonSchema, prefix: string, out: string[], sections: string[], defaults: Record<string, unknown>): void {
  const nestedObjects: Array<[string, JsonSchema]> = [];
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.type === 'object' && child.properties) {
      nestedObjects.push([path, child]);
      continue;
    }
    const type = describeType(child);
    const shownDefault = child.computedDefault !== undefined ? `\`${child.computedDefault}\`` : describeDefault(path, type, defaults, child.default);
    out.push(`| \`${path}\` | ${type} | ${shownDefault} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`);
  }
  for (const [path, child] of nestedObjects) {
    const own: string[] = [];
    const below: string[] = [];
    rows(child, path, own, below, defaults);
    sections.push(`\n## \`${path}\`\n\n${child.description ?? ''}\n`);
    if (own.length > 0) sections.push('| key | type | default | description |\n|---|---|---|---|', ...own);
    sections.push(...below);
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const defaults = configSchema.parse({});
  const top: string[] = [];
  const sections: string[] = [];
  rows(schema, '', top, sections, defaults as unknown as Record<string, unknown>);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `gatehouse config docs`; a test keeps it in step. Do not edit by hand. -->',
    '',
    'Gatehouse reads one `gatehouse.yaml` (`--config <path>`, env `GATEHOUSE_CONFIG`, or `./gatehouse.yaml` if present),',
    'validates it once at start and refuses to start with a message naming each bad key path. Environment',
    'variables win over the file: `GATEHOUSE_DATA_DIR`, `GATEHOUSE_DATABASE_URL`, `GATEHOUSE_ISSUER`, `GATEHOUSE_PORT`, `GATEHOUSE_LOG_LEVEL`;',
    'the `--data-dir` and `--port` flags win over both. Durations are written `30s`, `10m`, `1h`, `14d` (or a number of seconds).',
    'Secrets never go in this file: `GATEHOUSE_MASTER_KEY` (32 bytes, base64) encrypts private keys at rest, else a',
    'generated `<dataDir>/master.key` (0600) is used; cookie keys likewise (`GATEHOUSE_COOKIE_KEY` / `cookie.key`). A keyfile',
    'readable by group or others stops the start (`chmod 600` it).',
    '',
    '| key | type | default | description |',
    '|---|---|---|---|',
    ...top,
    ...sections,
    '',
    '## Default roles',
    '',
    '```yaml',
    'roles:',
    ...Object.entries(defaults.roles).map(([role, permissions]) => `  ${role}: [${permissions.map((p) => (p === '*' ? "'*'" : p)).join(', ')}]`),
    '```',
    '',
  ].join('\n');
}
