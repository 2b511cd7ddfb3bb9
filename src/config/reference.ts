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
}

function describeType(schema: JsonSchema): string {
  if (schema.anyOf) {
    const isDuration = schema.anyOf.some((s) => s.pattern?.includes('ms|s|m|h|d'));
    if (isDuration) return 'duration';
    return schema.anyOf.map(describeType).join(' | ');
  }
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (schema.type === 'array') return `list of ${schema.items ? describeType(schema.items) : 'any'}`;
  if (schema.type === 'object' && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return `map of ${describeType(schema.additionalProperties)}`;
  }
  if (schema.format === 'uri') return 'URL';
  const range = schema.minimum !== undefined || schema.maximum !== undefined ? ` (${schema.minimum ?? ''}–${schema.maximum ?? ''})` : '';
  return `${Array.isArray(schema.type) ? schema.type.join(' | ') : (schema.type ?? 'any')}${range}`;
}

function humanSeconds(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

function describeDefault(schema: JsonSchema, type: string): string {
  if (schema.default === undefined) return '—';
  if (type === 'duration' && typeof schema.default === 'number') return `\`${humanSeconds(schema.default)}\``;
  if (typeof schema.default === 'object' && schema.default !== null && Object.keys(schema.default).length === 0) return '—';
  const text = JSON.stringify(schema.default);
  return text.length > 80 ? 'see below' : `\`${text}\``;
}

function rows(schema: JsonSchema, prefix: string, out: string[], sections: string[]): void {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (child.type === 'object' && child.properties) {
      sections.push(`\n## \`${path}\`\n\n${child.description ?? ''}\n\n| key | type | default | description |\n|---|---|---|---|`);
      const nested: string[] = [];
      rows(child, path, nested, sections);
      sections.push(...nested);
      continue;
    }
    const type = describeType(child);
    const line = `| \`${path}\` | ${type} | ${describeDefault(child, type)} | ${(child.description ?? '').replace(/\|/g, '\\|')} |`;
    out.push(line);
  }
}

export function renderConfigReference(): string {
  const schema = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const top: string[] = [];
  const sections: string[] = [];
  rows(schema, '', top, sections);
  const defaults = configSchema.parse({});
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `gatehouse config docs`; a test keeps it in step. Do not edit by hand. -->',
    '',
    'Gatehouse reads one `gatehouse.yaml` (`--config <path>`, env `GATEHOUSE_CONFIG`, or `./gatehouse.yaml` if present),',
    'validates it once at start and refuses to start with a message naming each bad key path. Environment',
    'variables win over the file: `GATEHOUSE_DATA_DIR`, `GATEHOUSE_DATABASE_URL`, `GATEHOUSE_ISSUER`, `GATEHOUSE_LOG_LEVEL`;',
    'the `--data-dir` flag wins over both. Durations are written `30s`, `10m`, `1h`, `14d` (or a number of seconds).',
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
    ...Object.entries(defaults.roles).map(([role, permissions]) => `  ${role}: [${permissions.join(', ')}]`),
    '```',
    '',
  ].join('\n');
}
