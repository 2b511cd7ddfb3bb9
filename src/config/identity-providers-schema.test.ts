import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from './schema.ts';

const oidc = { id: 'corp', name: 'Corp', type: 'oidc', issuer: 'https://sso.example.com', clientId: 'gh' };
const issues = (identityProviders: unknown[]) => {
  const result = configSchema.safeParse({ identityProviders });
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

test('ok: an OIDC provider gets its defaults (scopes, 5 s timeout, OIDC claim names)', () => {
  const [provider] = configSchema.parse({ identityProviders: [oidc] }).identityProviders;
  assert.equal(provider?.type, 'oidc');
  assert.deepEqual(provider?.scopes, ['openid', 'profile', 'email']);
  assert.equal(provider?.timeout, 5);
  assert.deepEqual(provider?.claims, { subject: 'sub', username: 'preferred_username', email: 'email' });
  assert.equal(provider?.tokenEndpointAuthMethod, 'client_secret_basic');
});

test('ok: an oauth2 provider defaults to GitHub\'s userinfo members', () => {
  const [provider] = configSchema.parse({ identityProviders: [{ id: 'github', name: 'GitHub', type: 'oauth2', clientId: 'x', authorizationEndpoint: 'https://github.com/login/oauth/authorize', tokenEndpoint: 'https://github.com/login/oauth/access_token', userinfoEndpoint: 'https://api.github.com/user' }] }).identityProviders;
  assert.deepEqual(provider?.claims, { subject: 'id', username: 'login', email: 'email' });
});

test('fail-unknown-role: a role rule naming a role that does not exist is refused with its path', () => {
  assert.deepEqual(issues([{ ...oidc, roles: [{ claim: 'groups', contains: 'x', role: 'wizard' }] }]), ['identityProviders.0.roles.0.role: unknown role "wizard"; known roles: admin, customer, staff']);
});

test('fail-rule-shape: a rule needs exactly one of equals and contains', () => {
  assert.equal(issues([{ ...oidc, roles: [{ claim: 'groups', role: 'staff' }] }]).length, 1);
  assert.equal(issues([{ ...oidc, roles: [{ claim: 'groups', equals: 'a', contains: 'b', role: 'staff' }] }]).length, 1);
});

test('fail-duplicate-id: two providers with one id are refused', () => {
  assert.match(issues([oidc, { ...oidc, name: 'Other' }])[0]!, /duplicate identity provider id "corp"/);
});

test('fail-no-openid: an OIDC provider must ask for openid; an id must be URL-safe; no secret in the file', () => {
  assert.match(issues([{ ...oidc, scopes: ['profile'] }])[0]!, /openid scope/);
  assert.equal(issues([{ ...oidc, id: 'Corp SSO' }]).length, 1);
  assert.equal(issues([{ ...oidc, clientSecret: 'hunter2' }]).length, 1);
});

test('fail-plain-http: a provider over plain http is refused unless it is on this machine', () => {
  assert.match(issues([{ ...oidc, issuer: 'http://sso.example.com' }])[0]!, /https URL/);
  assert.deepEqual(issues([{ ...oidc, issuer: 'http://127.0.0.1:9000' }]), []);
});
