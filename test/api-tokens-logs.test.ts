/**
 * No personal API token reaches the log, even at `trace`: created through the admin API, shown in
 * the CLI-facing answer, exchanged (good and mistyped), reported leaked, and inside malformed JSON.
 * The production logger (redaction included) writes into memory; the capture is searched.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { capturedLog, startService, type TestService } from './helpers/service.ts';
import { basic, tokenRequest } from './oauth/helpers.ts';
import { API_TOKEN_TYPE, TOKEN_EXCHANGE } from './helpers/api-tokens.ts';

const { lines, logger } = capturedLog();
let svc: TestService;
let service: TestService['service'];
let issuer: string;

before(async () => {
  svc = await startService({ logger, config: { log: { level: 'trace' } } });
  service = svc.service;
  issuer = svc.config.issuer;
});
after(async () => { await svc.close(); });

test('ok: API tokens created, exchanged, mistyped, reported and sent in malformed JSON — none in the trace log', async () => {
  const ctx = service.context;
  const admin = await ctx.users.create({ username: 'root', email: 'root@example.com', roles: ['admin'] }, 'test');
  await ctx.users.create({ username: 'alice', email: 'alice@example.com', roles: ['customer'] }, 'test');
  const gateway = await ctx.oauth.clients.create({ clientId: 'gateway', name: 'Gateway', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'tokens:exchange' }, 'test');
  const now = Math.floor(Date.now() / 1000);
  const adminToken = await ctx.keys.sign({ iss: issuer, sub: admin.id, aud: issuer, client_id: 'console', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 300, scope: 'admin' }, { typ: 'at+jwt' });
  const secrets: string[] = [adminToken, gateway.secret!];

  const created = await fetch(`${issuer}/admin/api/users/alice/api-tokens`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', scopes: ['orders:read'], expiresIn: 3600 }) });
  assert.equal(created.status, 201);
  const { token } = (await created.json()) as { token: string };
  secrets.push(token);
  const exchangeOf = (subject: string) => tokenRequest(issuer, { grant_type: TOKEN_EXCHANGE, subject_token: subject, subject_token_type: API_TOKEN_TYPE }, basic('gateway', gateway.secret!));
  const exchanged = await exchangeOf(token);
  assert.equal(exchanged.status, 200);
  secrets.push(((await exchanged.json()) as { access_token: string }).access_token);
  const typo = token.slice(0, -2) + (token.endsWith('zz') ? 'yy' : 'zz');
  secrets.push(typo);
  assert.equal((await exchangeOf(typo)).status, 400);
  const malformed = await fetch(`${issuer}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"token": "${token}",` });
  assert.equal(malformed.status, 400);
  assert.equal((await fetch(`${issuer}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) })).status, 204);
  assert.equal((await exchangeOf(token)).status, 400);

  const log = lines.join('');
  assert.match(log, /"url":"\/api-tokens\/revoke"/, 'the capture works');
  for (const secret of secrets) assert.equal(log.includes(secret), false, `a secret (${secret.slice(0, 6)}…) appears in the log`);
});
