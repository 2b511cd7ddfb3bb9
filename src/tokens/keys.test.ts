import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { jwtVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import { configSchema, type Config } from '../config/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { frozenClock } from '../shared/clock.ts';
import type { Store } from '../store/index.ts';
import { createKeyService, ROTATION_SKEW_SECONDS } from './index.ts';

function keyService(store: Store, options: { masterKey?: Buffer; config?: Config; clock?: ReturnType<typeof frozenClock> } = {}) {
  const clock = options.clock ?? frozenClock();
  return createKeyService({ store, masterKey: options.masterKey ?? masterKey, config: options.config ?? configSchema.parse({}), clock, audit: createAuditLog(store.db, clock) });
}
const masterKey = randomBytes(32);
const claims = (now: number) => ({ iss: 'https://issuer.test', sub: 'u1', iat: now, exp: now + 600, jti: randomBytes(8).toString('hex') });

await forEachDialect('signing keys', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  before(async () => ({ store, close } = await openTestStore(dialect)));
  after(async () => { await close(); });

  test('ok: ensureKeys creates one active and one next key, idempotent under concurrent starts', async () => {
    await Promise.all([keyService(store).ensureKeys(), keyService(store).ensureKeys(), keyService(store).ensureKeys()]);
    await keyService(store).ensureKeys();
    const list = await keyService(store).list();
    assert.deepEqual(list.map((k) => k.state), ['active', 'next']);
    assert.ok(list.every((k) => k.alg === 'ES256'));
  });

  test('ok: JWKS lists active first, then next; the public set carries no private members', async () => {
    const keys = keyService(store);
    const [active, next] = await keys.list();
    const provider = await keys.providerJwks();
    assert.deepEqual(provider.keys.map((k) => k.kid), [active!.kid, next!.kid]);
    assert.ok(provider.keys.every((k) => typeof k.d === 'string' && k.use === 'sig' && k.alg === 'ES256'));
    const pub = await keys.publicJwks();
    assert.deepEqual(pub.keys.map((k) => k.kid), [active!.kid, next!.kid]);
    assert.ok(pub.keys.every((k) => k.d === undefined));
  });

  test('ok: rotate keeps tokens in flight valid, and the new signing key was published before it signed', async () => {
    const clock = frozenClock(Date.now());
    const keys = keyService(store, { clock });
    const now = Math.floor(clock.now() / 1000);
    const before = await keys.publicJwks();
    const oldToken = await keys.sign(claims(now), { typ: 'at+jwt' });
    const versionBefore = await keys.version();

    const result = await keys.rotate('test');
    assert.equal(result.activeKid, before.keys[1]!.kid, 'the pre-published next key became active');
    assert.equal(result.retiredKid, before.keys[0]!.kid);
    assert.notEqual(await keys.version(), versionBefore);

    const newToken = await keys.sign(claims(now), { typ: 'at+jwt' });
    assert.equal(decodeProtectedHeader(newToken).kid, result.activeKid);
    // A relying party that cached JWKS before the rotation verifies the new token without refetching.
    await jwtVerify(newToken, createLocalJWKSet(before as never), { currentDate: new Date(clock.now()) });
    // And the token signed before the rotation still verifies with the JWKS published after it.
    const after = await keys.publicJwks();
    assert.deepEqual(after.keys.map((k) => k.kid), [result.activeKid, result.nextKid, result.retiredKid]);
    await jwtVerify(oldToken, createLocalJWKSet(after as never), { currentDate: new Date(clock.now()) });

    const audit = await createAuditLog(store.db).list({ event: 'key.rotated' });
    assert.equal(audit.at(-1)?.subject, result.activeKid);
    assert.equal(audit.at(-1)?.actor, 'test');
  });

  test('ok: a retired key leaves JWKS after retire_until and is deleted at the next rotation', async () => {
    // Later than the previous test: the next key it created is eligible by then.
    const clock = frozenClock(Date.now() + 3600_000);
    const config = configSchema.parse({});
    const keys = keyService(store, { clock, config });
    const { retiredKid } = await keys.rotate('test');
    const retired = (await keys.list()).find((k) => k.kid === retiredKid)!;
    const grace = Math.max(config.tokens.accessTokenTtl, config.tokens.maxAccessTokenTtl, config.tokens.idTokenTtl) + ROTATION_SKEW_SECONDS;
    assert.equal(retired.retireUntil, Math.floor(clock.now() / 1000) + grace);

    clock.advance((grace - 1) * 1000);
    assert.ok((await keys.publicJwks()).keys.some((k) => k.kid === retiredKid));
    const version = await keys.version();
    clock.advance(2000);
    assert.ok(!(await keys.publicJwks()).keys.some((k) => k.kid === retiredKid));
    assert.ok(!(await keys.providerJwks()).keys.some((k) => k.kid === retiredKid));
    assert.notEqual(await keys.version(), version, 'version changes when a key leaves JWKS');

    await keys.rotate('test');
    assert.ok(!(await keys.list()).some((k) => k.kid === retiredKid));
  });

  test('fail-next-too-young: rotate refuses to activate a next key published less than keyActivationDelay ago', async () => {
    const clock = frozenClock(Date.now() + 5 * 3600_000);
    const keys = keyService(store, { clock });
    const first = await keys.rotate('test');
    const delay = configSchema.parse({}).tokens.keyActivationDelay;
    assert.equal(first.nextEligibleAt, Math.floor(clock.now() / 1000) + delay);
    assert.equal((await keys.list()).find((k) => k.kid === first.nextKid)?.eligibleAt, first.nextEligibleAt);
    clock.advance((delay - 5) * 1000);
    const listed = await keys.list();
    await assert.rejects(keys.rotate('test'), (error: { code?: string; description?: string; extensions?: { eligibleAt?: number } }) => {
      assert.equal(error.code, 'key_not_ready');
      assert.equal(error.extensions?.eligibleAt, first.nextEligibleAt);
      assert.match(error.description ?? '', new RegExp(`${first.nextKid}.*in 5 s`));
      return true;
    });
    assert.deepEqual(await keys.list(), listed, 'nothing changed');
    clock.advance(5000);
    const second = await keys.rotate('test');
    assert.equal(second.activeKid, first.nextKid);
    assert.equal(second.forced, false);
  });

  test('ok: rotate with force activates a young next key and says so in the audit entry', async () => {
    const clock = frozenClock(Date.now() + 6 * 3600_000);
    const keys = keyService(store, { clock });
    const first = await keys.rotate('test');
    const forced = await keys.rotate('test', { force: true });
    assert.equal(forced.activeKid, first.nextKid);
    assert.equal(forced.forced, true);
    const audit = await createAuditLog(store.db).list({ event: 'key.rotated', latest: true, limit: 1 });
    assert.equal(audit[0]?.data?.forced, true);
  });

  test('fail-wrong-master-key: ensureKeys refuses with a clear message', async () => {
    await assert.rejects(keyService(store, { masterKey: randomBytes(32) }).ensureKeys(), /wrong master key/);
  });
});

test('ok: RS256 and EdDSA are selectable', async () => {
  for (const algorithm of ['RS256', 'EdDSA'] as const) {
    const { store, close } = await openTestStore('sqlite');
    try {
      const clock = frozenClock(Date.now());
      const keys = keyService(store, { clock, config: configSchema.parse({ tokens: { algorithm } }) });
      await keys.ensureKeys();
      const jwt = await keys.sign(claims(Math.floor(clock.now() / 1000)), { typ: 'at+jwt' });
      assert.equal(decodeProtectedHeader(jwt).alg, algorithm);
      const jwks = await keys.publicJwks();
      assert.equal(jwks.keys[0]!.kty, algorithm === 'RS256' ? 'RSA' : 'OKP');
      await jwtVerify(jwt, createLocalJWKSet(jwks as never), { currentDate: new Date(clock.now()) });
    } finally {
      await close();
    }
  }
});
