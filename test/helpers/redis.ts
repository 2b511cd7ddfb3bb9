/**
 * Real Redis for tests: GATEHOUSE_TEST_REDIS_URL (default redis://127.0.0.1:6379). Each test
 * uses its own key prefix, so tests never see each other's keys. Unreachable → on CI the tests
 * fail; elsewhere they are skipped with a loud reason.
 */
import { randomBytes } from 'node:crypto';
import { createClient, type RedisClientType } from '@redis/client';

export const TEST_REDIS_URL = process.env.GATEHOUSE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connected client for looking at keys; close it with `.close()`. */
export async function redisClient(): Promise<RedisClientType> {
  const client = createClient({ url: TEST_REDIS_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } }) as RedisClientType;
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Skip reason for a Redis test, or false to run it. On CI an unreachable server is an error. */
export async function redisSkip(): Promise<string | false> {
  try {
    const client = await redisClient();
    await client.ping();
    await client.close();
    return false;
  } catch (error) {
    const problem = `Redis at ${TEST_REDIS_URL} is unreachable (${(error as Error).message})`;
    if (process.env.CI) throw new Error(`${problem}: the Redis tests must run on CI`);
    console.error(`\n!!! ${problem}: SKIPPING the Redis tests !!!\n`);
    return problem;
  }
}

/** A key prefix no other test uses. */
export const testPrefix = () => `gatehouse-test:${randomBytes(6).toString('hex')}:`;
