import { describe } from 'node:test';
import { postgresSkip } from './postgres.ts';
import type { TestDialect } from './service.ts';

/** Declares the same suite for SQLite and PostgreSQL. */
export async function forEachDialect(name: string, suite: (dialect: TestDialect) => void): Promise<void> {
  const skip = await postgresSkip();
  describe(`${name} [sqlite]`, () => suite('sqlite'));
  describe(`${name} [postgres]`, { skip }, () => suite('postgres'));
}
