import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientRow } from '../store/index.ts';
import { sha256Hex } from '../shared/random.ts';
import { PREVIOUS_SECRET_PROPERTY, authMetadata, authMethodOf, matchesStoredSecret } from './client-auth.ts';

const row = (overrides: Partial<ClientRow>): ClientRow => ({
  client_id: 'c', name: 'C', first_party: 1, secret_digest: sha256Hex('current'), redirect_uris: '[]', post_logout_redirect_uris: '[]', grant_types: '["client_credentials"]',
  scope: '', roles: '[]', access_token_ttl: null, created_at: 0, updated_at: 0, token_endpoint_auth_method: null, jwks: null, jwks_uri: null,
  previous_secret_digest: null, previous_secret_expires_at: null, ...overrides,
});

test('ok: rows from before 0010_client_auth keep their method: none without a secret, client_secret_basic with one', () => {
  assert.equal(authMethodOf(row({})), 'client_secret_basic');
  assert.equal(authMethodOf(row({ secret_digest: null })), 'none');
  assert.equal(authMethodOf(row({ token_endpoint_auth_method: 'client_secret_post' })), 'client_secret_post');
});

test('ok: the previous digest is offered until its expiry, not at or after it', () => {
  const rotated = row({ previous_secret_digest: sha256Hex('old'), previous_secret_expires_at: 1000 });
  assert.equal(authMetadata(rotated, 999)[PREVIOUS_SECRET_PROPERTY], sha256Hex('old'));
  assert.equal(authMetadata(rotated, 1000)[PREVIOUS_SECRET_PROPERTY], undefined);
});

test('ok: private_key_jwt metadata carries the keys and no secret', () => {
  const metadata = authMetadata(row({ token_endpoint_auth_method: 'private_key_jwt', secret_digest: null, jwks: '{"keys":[{"kty":"EC"}]}' }), 0);
  assert.deepEqual(metadata, { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC' }] } });
});

test('fail-method: a right secret presented the other way, a wrong secret, a non-string', () => {
  const client = { clientSecret: sha256Hex('current'), tokenEndpointAuthMethod: 'client_secret_basic', [PREVIOUS_SECRET_PROPERTY]: sha256Hex('old') };
  assert.equal(matchesStoredSecret(client, 'current', 'client_secret_basic'), true);
  assert.equal(matchesStoredSecret(client, 'old', 'client_secret_basic'), true);
  assert.equal(matchesStoredSecret(client, 'current', 'client_secret_post'), false);
  assert.equal(matchesStoredSecret(client, 'wrong', 'client_secret_basic'), false);
  assert.equal(matchesStoredSecret(client, undefined, 'client_secret_basic'), false);
});
