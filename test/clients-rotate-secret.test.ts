/**
 * `client rotate-secret` through the admin API: the new secret is shown once; the old one keeps
 * working for the overlap and is refused after it (the service's clock is moved, not waited for).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';

const CC = { grant_type: 'client_credentials', scope: 'books:read' };

await forEachDialect('client secret rotation', (dialect) => {
  let fx: OAuthFixture;
  let admin: string;
  // Real time plus an offset the tests move forward: oidc-provider keeps real time, our checks see the future.
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  // Puts the service's clock at the start of the given epoch second. Moving by a fixed amount from
  // "now" flakes: the expiry is whole seconds, so a rotation late in a second leaves under 60 s.
  const moveTo = (epochSecond: number) => { offset = epochSecond * 1000 - Date.now(); };

  const rotate = (clientId: string, body: Record<string, unknown> = {}) =>
    fetch(`${fx.issuer}/admin/api/clients/${clientId}/rotate-secret`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const status = async (clientId: string, secret: string) => (await tokenRequest(fx.issuer, CC, basic(clientId, secret))).status;
  const addService = async (clientId: string) =>
    (await fx.svc.service.context.oauth.clients.create({ clientId, name: clientId, firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'books:read' }, 'test')).secret!;

  before(async () => {
    fx = await startOAuthService(dialect, { clock, config: { clients: { secretRotationOverlap: '10m' } } });
    const now = Math.floor(Date.now() / 1000);
    admin = await fx.svc.service.context.keys.sign(
      { iss: fx.issuer, sub: fx.users.bob, aud: fx.issuer, client_id: 'admin-console', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 3600, scope: 'openid admin' },
      { typ: 'at+jwt' },
    );
  });
  after(async () => { await fx.close(); });

  test('ok: during the overlap both secrets work; after it only the new one', async () => {
    const old = await addService('rot-overlap');
    const res = await rotate('rot-overlap', { overlap: 60 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { secret: string; client: { previousSecretExpiresAt: number } };
    assert.notEqual(body.secret, old);
    assert.equal(body.client.previousSecretExpiresAt, Math.floor(clock.now() / 1000) + 60);
    assert.equal(await status('rot-overlap', old), 200);
    assert.equal(await status('rot-overlap', body.secret), 200);
    moveTo(body.client.previousSecretExpiresAt - 1);
    assert.equal(await status('rot-overlap', old), 200);
    moveTo(body.client.previousSecretExpiresAt);
    assert.equal(await status('rot-overlap', old), 401);
    assert.equal(await status('rot-overlap', body.secret), 200);
  });

  test('ok: without an overlap the configured clients.secretRotationOverlap applies (10m here)', async () => {
    const old = await addService('rot-default');
    const body = (await (await rotate('rot-default')).json()) as { secret: string; client: { previousSecretExpiresAt: number } };
    assert.equal(body.client.previousSecretExpiresAt, Math.floor(clock.now() / 1000) + 600);
    moveTo(body.client.previousSecretExpiresAt - 1);
    assert.equal(await status('rot-default', old), 200);
    moveTo(body.client.previousSecretExpiresAt);
    assert.equal(await status('rot-default', old), 401);
  });

  test('ok: overlap 0 refuses the old secret at once; client.secret_rotated is audited without the secret', async () => {
    const old = await addService('rot-now');
    const body = (await (await rotate('rot-now', { overlap: 0 })).json()) as { secret: string };
    assert.equal(await status('rot-now', old), 401);
    assert.equal(await status('rot-now', body.secret), 200);
    const [row] = await fx.svc.service.context.audit.list({ event: 'client.secret_rotated', subject: 'rot-now', latest: true, limit: 1 });
    assert.equal(row?.data?.overlap, 0);
    assert.doesNotMatch(JSON.stringify(row), new RegExp(body.secret));
  });

  test('ok: a second rotation keeps only the secret it replaced', async () => {
    const first = await addService('rot-twice');
    const second = ((await (await rotate('rot-twice', { overlap: 300 })).json()) as { secret: string }).secret;
    const third = ((await (await rotate('rot-twice', { overlap: 300 })).json()) as { secret: string }).secret;
    assert.equal(await status('rot-twice', first), 401);
    assert.equal(await status('rot-twice', second), 200);
    assert.equal(await status('rot-twice', third), 200);
  });

  test('fail-no-secret: a public client has no secret to rotate → 409', async () => {
    const res = await rotate('spa');
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { code: string }).code, 'conflict');
  });

  test('fail-invalid: a negative or too long overlap → 422, the secret unchanged', async () => {
    const old = await addService('rot-bad');
    for (const overlap of [-1, 31 * 86400]) assert.equal((await rotate('rot-bad', { overlap })).status, 422);
    assert.equal(await status('rot-bad', old), 200);
  });

  test('fail-not-found: rotating an unknown client → 404', async () => {
    assert.equal((await rotate('ghost')).status, 404);
  });
});
