import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from './schema.ts';

test('ok: apiTokens defaults: 365 d maximum expiry, 300 s exchanged tokens', () => {
  const config = configSchema.parse({});
  assert.equal(config.apiTokens.maxTtl, 365 * 86400);
  assert.equal(config.apiTokens.exchangedTokenTtl, 300);
});

test('fail-exchanged-ttl: an exchanged-token lifetime beyond tokens.maxAccessTokenTtl is refused, naming the path', () => {
  const result = configSchema.safeParse({ apiTokens: { exchangedTokenTtl: '2h' } });
  assert.equal(result.success, false);
  assert.deepEqual(result.error?.issues.map((i) => i.path.join('.')), ['apiTokens.exchangedTokenTtl']);
});
