/**
 * Real PostgreSQL for tests: every call gets a fresh database, dropped afterwards.
 * GATEHOUSE_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Unreachable → on CI the tests fail; elsewhere they are skipped with a loud reason.
 */
import pg from 'pg';
import { randomBytes } from 'node:crypto';

export const TEST_POSTGRES_URL = process.env.GATEHOUSE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: Promise<string | undefined> | undefined;

/** undefined when PostgreSQL answers; otherwise why it does not. */
export function postgresProblem(): Promise<string | undefined> {
  reachable ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query('select 1');
      return undefined;
    } catch (error) {
      return `PostgreSQL at ${TEST_POSTGRES_URL} is unreachable (${(error as Error).message})`;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return reachable;
}

/** Skip reason for a PostgreSQL test, or false to run it. On CI an unreachable server is an error. */
export async function postgresSkip(): Promise<string | false> {
  const problem = await postgresProblem();
  if (problem === undefined) return false;
  if (process.env.CI) throw new Error(`${problem}: the PostgreSQL tests must run on CI`);
  console.error(`\n!!! ${problem}: SKIPPING the PostgreSQL half of the store tests !!!\n`);
  return problem;
}

/** Creates an empty database; returns its URL and a function that drops it. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
