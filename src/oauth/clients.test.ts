/** Client registration rules and secrets (shown once, stored as a digest). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openStore, type Store } from '../store/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { frozenClock } from '../shared/clock.ts';
import { sha256Hex } from '../shared/random.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { createClientService } from './clients.ts';
import type { ClientService, CreateClientInput } from './types.ts';
import { DEVICE_CODE_GRANT } from './device/grant.ts';

let store: Store;
let dir: string;
let clients: ClientService;
const clock = frozenClock();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-clients-'));
  store = openStore({ dataDir: dir });
  await store.migrate();
  clients = createClientService({ store, audit: createAuditLog(store.db, clock), config: configSchema.parse({ dataDir: dir }), clock, revoker: { revokeClient: async () => ({ grants: 0, accessTokens: 0 }) } });
});
after(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

const web: CreateClientInput = { name: 'Web', firstParty: true, redirectUris: ['https://web.example/cb'], grantTypes: ['authorization_code', 'refresh_token'] };

test('ok: a confidential client gets a 256-bit secret, stored only as its SHA-256 digest', async () => {
  const { client, secret } = await clients.create(web, 'test');
  assert.ok(secret && Buffer.from(secret, 'base64url').length >= 32);
  const row = await store.db.selectFrom('clients').selectAll().where('client_id', '=', client.clientId).executeTakeFirstOrThrow();
  assert.equal(row.secret_digest, sha256Hex(secret));
  assert.doesNotMatch(JSON.stringify(row), new RegExp(secret));
  assert.equal(client.public, false);
  assert.match(client.scope, /openid/);
  const audit = await createAuditLog(store.db, clock).list({ event: 'client.created' });
  assert.equal(audit.at(-1)?.subject, client.clientId);
});

test('ok: a public client has no secret; list, find, remove', async () => {
  const { client, secret } = await clients.create({ ...web, clientId: 'spa', public: true }, 'test');
  assert.equal(secret, undefined);
  assert.equal(client.public, true);
  assert.ok((await clients.list()).some((c) => c.clientId === 'spa'));
  assert.equal((await clients.find('spa')).name, 'Web');
  await clients.remove('spa', 'test');
  await assert.rejects(clients.find('spa'), (e) => isGatehouseError(e) && e.code === 'not_found');
  await assert.rejects(clients.remove('spa', 'test'), (e) => isGatehouseError(e) && e.code === 'not_found');
});

const refusals: Array<[string, Partial<CreateClientInput>]> = [
  ['fail-no-redirect: authorization_code without a redirect URI', { redirectUris: [] }],
  ['fail-fragment: a redirect URI with a fragment', { redirectUris: ['https://web.example/cb#x'] }],
  ['fail-relative: a relative redirect URI', { redirectUris: ['/cb'] }],
  ['fail-grant: an unknown grant type', { grantTypes: ['password'] }],
  ['fail-refresh-alone: refresh_token without authorization_code', { grantTypes: ['refresh_token'], redirectUris: [] }],
  ['fail-public-service: client_credentials for a public client', { public: true, grantTypes: ['client_credentials'], redirectUris: [] }],
  ['fail-scope: an unknown scope', { scope: 'openid launch:missiles' }],
  ['fail-role: an undefined role', { roles: ['wizard'] }],
  ['fail-redirect-scheme: a javascript: redirect URI', { redirectUris: ['javascript://web.example/%0aalert(1)'] }],
  ['fail-redirect-scheme: a data: redirect URI', { redirectUris: ['data:text/html,hi'] }],
  ['fail-redirect-scheme: a private-use scheme not in reverse-DNS form', { redirectUris: ['myapp:/callback'] }],
  ['fail-redirect-http: plain http to a remote host', { redirectUris: ['http://web.example/cb'] }],
  ['fail-redirect-http: plain http to a host that only starts like loopback', { redirectUris: ['http://127.0.0.1.evil.example/cb'] }],
  ['fail-post-logout-scheme: a javascript: post-logout redirect URI', { postLogoutRedirectUris: ['javascript://web.example/%0aalert(1)'] }],
  ['fail-post-logout-http: plain http post-logout redirect to a remote host', { postLogoutRedirectUris: ['http://web.example/bye'] }],
  ['fail-uuid-id: a client id shaped like a user id (UUID)', { clientId: randomUUID() }],
  ['fail-uuid-id: an upper-case UUID client id', { clientId: randomUUID().toUpperCase() }],
  ['fail-service-scope: events:read on an authorization_code client', { scope: 'openid events:read' }],
  ['fail-service-scope: tokens:introspect on an authorization_code client', { scope: 'openid tokens:introspect' }],
  ['fail-service-scope: events:read on a device_code client', { grantTypes: [DEVICE_CODE_GRANT], redirectUris: [], scope: 'openid events:read' }],
  ['fail-device-redirect: a device_code client with a redirect URI it never uses', { grantTypes: [DEVICE_CODE_GRANT] }],
];
for (const [name, change] of refusals) {
  test(name, async () => {
    const before = (await clients.list()).length;
    await assert.rejects(clients.create({ ...web, ...change } as CreateClientInput, 'test'), (e) => isGatehouseError(e) && e.code === 'validation_failed');
    assert.equal((await clients.list()).length, before);
  });
}

test('ok: https, loopback http and reverse-DNS private-use redirect URIs are accepted', async () => {
  const redirectUris = ['https://web.example/cb', 'http://localhost:5173/cb', 'http://127.0.0.1:9/cb', 'http://[::1]:8080/cb', 'com.example.app:/oauth2redirect'];
  const postLogoutRedirectUris = ['https://web.example/', 'http://localhost:5173/', 'com.example.app:/bye'];
  const { client } = await clients.create({ ...web, clientId: 'native-app', redirectUris, postLogoutRedirectUris }, 'test');
  assert.deepEqual(client.redirectUris, redirectUris);
  assert.deepEqual(client.postLogoutRedirectUris, postLogoutRedirectUris);
});

test('ok: a client_credentials service client may hold events:read and tokens:introspect', async () => {
  const { client } = await clients.create({ clientId: 'gateway', name: 'Gateway', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read tokens:introspect' }, 'test');
  assert.equal(client.scope, 'events:read tokens:introspect');
});

test('ok: a public device client (RFC 8628) needs no redirect URI and may refresh', async () => {
  const { client, secret } = await clients.create({ clientId: 'tv-app', name: 'TV', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scope: 'openid offline_access' }, 'test');
  assert.equal(secret, undefined);
  assert.deepEqual(client.grantTypes, [DEVICE_CODE_GRANT, 'refresh_token']);
});

test('fail-service-scope: the validation error names the scope and the grant', async () => {
  await assert.rejects(clients.create({ ...web, scope: 'openid events:read' }, 'test'), (e) => isGatehouseError(e) && e.code === 'validation_failed' && /events:read/.test(e.description) && /authorization_code/.test(e.description));
});

test('fail-conflict: a taken client id', async () => {
  await clients.create({ ...web, clientId: 'dup' }, 'test');
  await assert.rejects(clients.create({ ...web, clientId: 'dup' }, 'test'), (e) => isGatehouseError(e) && e.code === 'conflict');
});
