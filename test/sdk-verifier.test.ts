/**
 * createVerifier's token rules against a tiny issuer whose keys the test holds: every attack
 * shape is a real signed (or deliberately broken) token, checked over real HTTP JWKS fetches.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, UnsecuredJWT, exportJWK, generateKeyPair, base64url } from 'jose';
import { createPublicKey } from 'node:crypto';
import { createVerifier, VerificationError, type Verifier, type VerifierOptions } from '../src/sdk/index.ts';
import { startTinyIssuer, signingKey, type TinyIssuer } from './helpers/tiny-issuer.ts';

let iss: TinyIssuer;
let verifier: Verifier;
const now = () => Math.floor(Date.now() / 1000);

function make(options: Partial<VerifierOptions> = {}): Verifier {
  const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, ...options });
  after(() => v.close());
  return v;
}

async function refused(token: string, reason: RegExp, v: Verifier = verifier): Promise<void> {
  await assert.rejects(v.verify(token), (error: unknown) => {
    assert.ok(error instanceof VerificationError, `expected a VerificationError, got ${String(error)}`);
    assert.equal(error.code, 'invalid_token');
    assert.match(error.reason, reason);
    assert.doesNotMatch(error.message, /kid|alg|aud|iss/, 'the public message names no check');
    return true;
  });
}

before(async () => {
  iss = await startTinyIssuer();
  verifier = createVerifier({ issuer: iss.issuer, audience: iss.audience });
});
after(async () => {
  await verifier.close();
  await iss.close();
});

test('ok: a valid token becomes a typed Identity with permissions from the published policy', async () => {
  const token = await iss.sign({ sub: 'alice', roles: ['customer', 'staff'], scope: 'openid books:read', sid: 's1' });
  const identity = await verifier.verify(token);
  assert.equal(identity.kind, 'user');
  assert.equal(identity.subject, 'alice');
  assert.equal(identity.clientId, 'shop');
  assert.equal(identity.sessionId, 's1');
  assert.deepEqual(identity.roles, ['customer', 'staff']);
  assert.deepEqual(identity.scopes, ['openid', 'books:read']);
  assert.deepEqual(identity.permissions, ['books:*', 'orders:read', 'orders:read:own']);
  assert.equal(identity.claims.sub, 'alice');
  assert.ok(identity.hasScope('books:read') && !identity.hasScope('admin'));
  assert.ok(identity.hasRole('staff') && !identity.hasRole('admin'));
  assert.ok(identity.can('books:write'));
  assert.ok(!identity.can('orders:refund'));
  assert.equal(verifier.policyVersion !== undefined, true);
});

test('ok: `:own` permissions need the owner: can(p, { ownerId }) compares it with sub', async () => {
  const identity = await verifier.verify(await iss.sign({ sub: 'bob', roles: ['customer'] }));
  assert.equal(identity.can('orders:read'), false);
  assert.equal(identity.can('orders:read', { ownerId: 'bob' }), true);
  assert.equal(identity.can('orders:read', { ownerId: 'carol' }), false);
  assert.deepEqual(identity.decide('orders:read', { ownerId: 'carol' }), { allow: false, reason: 'not_owner', permission: 'orders:read:own' });
});

test('ok: a client_credentials token (sub = client_id, no sid) is a service identity', async () => {
  const identity = await verifier.verify(await iss.sign({ sub: 'orders-svc', client_id: 'orders-svc', sid: undefined, roles: ['staff'] }));
  assert.equal(identity.kind, 'service');
  assert.equal(identity.sessionId, undefined);
});

test('ok: a token is verified once: the second call returns the same identity from the cache', async () => {
  const token = await iss.sign();
  const first = await verifier.verify(token);
  assert.equal(await verifier.verify(token), first);
});

test('ok: concurrent first calls with one token share one verification, which is forgotten once it settles', async () => {
  // No cache: only the in-flight sharing can hand the same identity to several calls.
  const v = make({ cacheSize: 0 });
  const token = await iss.sign();
  const identities = await Promise.all(Array.from({ length: 5 }, () => v.verify(token)));
  assert.ok(identities.every((identity) => identity === identities[0]), 'one verification, one identity for all five');
  const later = await v.verify(token);
  assert.notEqual(later, identities[0], 'a call after it settled verifies again');
  assert.equal(later.subject, identities[0]!.subject);
});

test('ok: verifyCached answers a token verify() accepted, with the same identity and no promise; nothing for one never verified', async () => {
  const token = await iss.sign();
  assert.equal(verifier.verifyCached(token), undefined);
  const identity = await verifier.verify(token);
  assert.equal(verifier.verifyCached(token), identity);
  assert.equal(verifier.verifyCached(await iss.sign()), undefined);
});

test('fail-expired-cached-sync: verifyCached has nothing for a cached token once it expired; verify() then refuses it', async () => {
  let clock = Date.now();
  const v = make({ now: () => clock });
  const token = await iss.sign({ exp: now() + 30 });
  await v.verify(token);
  assert.ok(v.verifyCached(token));
  clock += 36_000;
  assert.equal(v.verifyCached(token), undefined);
  await refused(token, /exp/, v);
});

test('ok: status() reports the key set and policy loaded; no credentials → events false, not ready', async () => {
  await verifier.verify(await iss.sign());
  assert.deepEqual(verifier.status(), { jwks: true, policy: true, events: false });
  assert.equal(verifier.ready(), false);
});

test('fail-expired: exp in the past (beyond the 5 s leeway)', async () => {
  await refused(await iss.sign({ iat: now() - 120, exp: now() - 6 }), /exp/);
});

test('ok: exp within the leeway is still accepted', async () => {
  await verifier.verify(await iss.sign({ iat: now() - 120, exp: now() - 2 }));
});

test('fail-expired-cached: a cached token is refused once it expires', async () => {
  let clock = Date.now();
  const v = make({ now: () => clock });
  const token = await iss.sign({ exp: now() + 30 });
  await v.verify(token);
  clock += 36_000;
  await refused(token, /exp/, v);
});

test('fail-not-yet-valid: nbf in the future', async () => {
  await refused(await iss.sign({ nbf: now() + 60 }), /nbf/);
});

test('fail-iat-future: iat in the future', async () => {
  await refused(await iss.sign({ iat: now() + 60, exp: now() + 600 }), /iat/);
});

test('fail-too-long-lived: exp − iat beyond maxTokenAge', async () => {
  const v = make({ maxTokenAge: 3600 });
  await refused(await iss.sign({ exp: now() + 7200 }), /lifetime|maxTokenAge/, v);
});

test('fail-too-old: now − iat beyond maxTokenAge', async () => {
  const v = make({ maxTokenAge: 3600 });
  await refused(await iss.sign({ iat: now() - 4000, exp: now() + 60 }), /iat|age/, v);
});

test('fail-tampered: a payload changed after signing', async () => {
  const [header, , signature] = (await iss.sign({ roles: ['customer'] })).split('.');
  const forged = base64url.encode(JSON.stringify({ iss: iss.issuer, sub: 'user-1', aud: iss.audience, client_id: 'shop', jti: 'x', iat: now(), exp: now() + 600, roles: ['admin'] }));
  await refused(`${header}.${forged}.${signature}`, /signature/);
});

test('fail-cached-signature: another payload under a cached token\'s signature is verified (and refused), never answered from the cache', async () => {
  const token = await iss.sign({ sub: 'alice', roles: ['customer'] });
  await verifier.verify(token);
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload!))) as Record<string, unknown>;
  const forged = `${header}.${base64url.encode(JSON.stringify({ ...claims, roles: ['admin'] }))}.${signature}`;
  assert.equal(verifier.verifyCached(forged), undefined);
  await refused(forged, /signature/);
  assert.ok(verifier.verifyCached(token), 'the genuine token is still cached');
});

test('fail-wrong-key: signed by another key under the published kid', async () => {
  const impostor = { ...(await signingKey('ES256')), kid: iss.key.kid };
  await refused(await iss.sign({}, {}, impostor), /signature/);
});

test('fail-alg-none: an unsecured token', async () => {
  const unsecured = new UnsecuredJWT({ iss: iss.issuer, sub: 'user-1', aud: iss.audience, client_id: 'shop', jti: 'j', iat: now(), exp: now() + 600 }).encode();
  const [, payload] = unsecured.split('.');
  const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'at+jwt', kid: iss.key.kid }));
  await refused(`${header}.${payload}.`, /alg|JWS|not allowed/i);
});

test('fail-hs256-public-key: HS256 keyed with the published public key', async () => {
  const publicPem = createPublicKey({ key: iss.key.publicJwk as never, format: 'jwk' }).export({ format: 'pem', type: 'spki' });
  const claims = { iss: iss.issuer, sub: 'user-1', aud: iss.audience, client_id: 'shop', jti: 'j', iat: now(), exp: now() + 600 };
  const token = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: iss.key.kid }).sign(new TextEncoder().encode(String(publicPem)));
  await refused(token, /alg/);
});

test('fail-alg-mismatch: a published algorithm, but not the one of the key its kid names', async () => {
  const rsa = await signingKey('RS256');
  iss.published = [iss.key.publicJwk, rsa.publicJwk];
  const v = make();
  try {
    // Signed with the RSA key but naming the EC key's kid: RS256 is published, yet not for that key.
    await refused(await iss.sign({}, { kid: iss.key.kid }, rsa), /does not match/, v);
  } finally {
    iss.published = [iss.key.publicJwk];
  }
});

test('fail-wrong-audience', async () => {
  await refused(await iss.sign({ aud: `${iss.issuer}/other` }), /aud/);
});

test('fail-wrong-issuer', async () => {
  await refused(await iss.sign({ iss: 'http://evil.test' }), /iss/);
});

test('fail-wrong-typ: an ID token (typ JWT) is not an access token', async () => {
  await refused(await iss.sign({}, { typ: 'JWT' }), /typ/);
});

test('fail-unknown-kid: a key the issuer does not publish', async () => {
  const stranger = await signingKey('ES256');
  await refused(await iss.sign({}, {}, stranger), /unknown kid/);
});

test('fail-crit: a crit header parameter, even one jose itself understands (b64)', async () => {
  await refused(await iss.sign({}, { crit: ['b64'], b64: true } as never), /crit/);
});

test('fail-embedded-jwk: a jwk (or jku/x5u) header is never followed', async () => {
  const attacker = await generateKeyPair('ES256', { extractable: true });
  const attackerKey = { kid: 'attacker', alg: 'ES256', privateKey: attacker.privateKey, publicJwk: {} };
  const before = iss.hits.get('/jwks') ?? 0;
  const token = await iss.sign({}, { jwk: await exportJWK(attacker.publicKey), jku: 'http://127.0.0.1:9/jwks', x5u: 'http://127.0.0.1:9/x5u' } as never, attackerKey);
  await refused(token, /unknown kid/);
  // Same kid as the real key, attacker's embedded key: the signature is checked with the real key.
  await refused(await iss.sign({}, { jwk: await exportJWK(attacker.publicKey), kid: iss.key.kid } as never, { ...attackerKey, kid: iss.key.kid }), /signature/);
  assert.ok((iss.hits.get('/jwks') ?? 0) - before <= 1);
});

test('fail-oversized: a token longer than maxTokenBytes is refused before parsing', async () => {
  await refused(`${'a'.repeat(9000)}.b.c`, /longer than 8192/);
});

test('fail-claim-types: sub, client_id and jti must be non-empty strings, roles a string array', async () => {
  await refused(await iss.sign({ client_id: 42 }), /unexpected types/);
  await refused(await iss.sign({ roles: 'admin' }), /unexpected types/);
});

test('fail-missing-claims: a token without jti or client_id', async () => {
  await refused(await iss.sign({ jti: undefined }), /jti/);
  await refused(await iss.sign({ client_id: undefined }), /client_id/);
});

test('fail-garbage-kid-flood: 1000 tokens with random kids cost at most one extra JWKS fetch', async () => {
  let jwksFetches = 0;
  const counting: typeof fetch = (input, init) => {
    if (String(input instanceof Request ? input.url : input).endsWith('/jwks')) jwksFetches += 1;
    return fetch(input, init);
  };
  const v = make({ fetch: counting });
  await v.verify(await iss.sign());
  const initial = jwksFetches;
  const garbage = await Promise.all(Array.from({ length: 1000 }, (_, i) => iss.sign({ jti: `g${i}` }, { kid: `garbage-${i}-${Math.random()}` })));
  // One after another (concurrent ones would share a single fetch anyway).
  for (const token of garbage) await assert.rejects(v.verify(token), VerificationError);
  assert.ok(jwksFetches - initial <= 1, `${jwksFetches - initial} extra JWKS fetches`);
});

test('ok: a new key is picked up by an unknown-kid refetch; the refusal before it was not cached', async () => {
  let clock = Date.now();
  const v = make({ now: () => clock, jwksCooldown: 30 });
  await v.verify(await iss.sign());
  const next = await signingKey('ES256');
  const token = await iss.sign({}, {}, next);
  // Not yet published: one refetch, refused.
  await refused(token, /unknown kid/, v);
  iss.published = [iss.key.publicJwk, next.publicJwk];
  try {
    await refused(token, /unknown kid/, v); // within the cooldown: no refetch
    clock += 31_000;
    const identity = await v.verify(token);
    assert.equal(identity.subject, 'user-1');
  } finally {
    iss.published = [iss.key.publicJwk];
  }
});

test('ok: the cache is bounded: the oldest verified token is verified again after cacheSize others', async () => {
  const v = make({ cacheSize: 2 });
  const [a, b, c] = await Promise.all([iss.sign(), iss.sign(), iss.sign()]);
  const first = await v.verify(a!);
  await v.verify(b!);
  await v.verify(c!);
  assert.notEqual(await v.verify(a!), first, 'a was evicted and verified anew');
  const third = await v.verify(c!);
  assert.equal(await v.verify(c!), third);
});

test('ok: securityService: everything is fetched from the internal URL, tokens still name the issuer', async () => {
  const fetched: string[] = [];
  const recording: typeof fetch = (input, init) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  // The public issuer is unreachable; the tiny issuer is the "internal" address.
  const publicIssuer = iss.issuer.replace('127.0.0.1', 'localhost');
  const v = createVerifier({ issuer: iss.issuer, audience: iss.audience, securityService: publicIssuer, fetch: recording });
  after(() => v.close());
  await v.verify(await iss.sign());
  assert.ok(fetched.length >= 3);
  assert.ok(fetched.every((url) => url.startsWith(publicIssuer)), fetched.join('\n'));
});
