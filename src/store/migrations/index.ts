import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../db.ts';
import { core } from './0001_core.ts';
import { pki } from './0002_pki.ts';
import { tokensEvents } from './0003_tokens_events.ts';

/** Versioned, forward-only migrations, in order. Add a file, add a line. */
export function migrations(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '0001_core': core(dialect),
    '0002_pki': pki(dialect),
    '0003_tokens_events': tokensEvents(dialect),
  };
  return { getMigrations: async () => all };
}
