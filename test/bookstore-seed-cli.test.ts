/**
 * The demo's seed registers the terminal program (examples/bookstore/cli) as a public,
 * third-party device client, and a second start leaves it alone: re-registering it would revoke
 * every CLI sign-in (removing a client revokes its grants).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config/index.ts';
import { DEVICE_CODE_GRANT } from '../src/oauth/index.ts';
import { seedDemo, DEMO_CLIENTS } from '../examples/bookstore/seed.ts';
import { startService, type TestService } from './helpers/service.ts';

const DEMO_CONFIG = new URL('../examples/bookstore/gatehouse.yaml', import.meta.url).pathname;

let svc: TestService;
before(async () => {
  const demo = loadConfig({ configPath: DEMO_CONFIG, env: {} });
  svc = await startService({ config: { roles: demo.roles, resources: demo.resources } });
});
after(async () => { await svc.close(); });

test('ok: the CLI is seeded as a public third-party device client, once', async () => {
  const context = svc.service.context;
  await seedDemo(context, {}, 'http://localhost:8080', 'http://localhost:8081');
  const client = await context.oauth.clients.find(DEMO_CLIENTS.cli);
  assert.equal(client.public, true);
  assert.equal(client.firstParty, false);
  assert.deepEqual(client.grantTypes, [DEVICE_CODE_GRANT, 'refresh_token']);
  assert.equal(client.scope, 'openid offline_access orders:read');
  await seedDemo(context, {}, 'http://localhost:8080', 'http://localhost:8081');
  const created = await context.audit.list({ event: 'client.created', subject: DEMO_CLIENTS.cli });
  assert.equal(created.length, 1, 'a second start does not register it again');
  assert.deepEqual(await context.audit.list({ event: 'client.removed', subject: DEMO_CLIENTS.cli }), []);
});
