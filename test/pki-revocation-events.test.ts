/**
 * A revocation reaches real event-stream subscribers: `subscribeToEventStream` against the
 * running service (GET /events/stream with an events:read service token, SETs verified with the
 * service's JWKS) receives `certificate.revoked` after `pki.revoke` in the service process and
 * after `gatehouse ca revoke` run as another process on the same store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type TestService } from './helpers/service.ts';
import { makeCsr } from './helpers/pki.ts';
import { runCli } from './helpers/cli.ts';
import type { PublishedEvent } from '../src/events/index.ts';
import { subscribeToEventStream, type EventStreamSubscription } from '../src/sdk/index.ts';

let svc: TestService;
let subscription: EventStreamSubscription;
const received: PublishedEvent[] = [];

/** A service access token as client_credentials issues it: audience = issuer, scope events:read. */
function serviceToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return svc.service.context.keys.sign(
    { iss: svc.config.issuer, sub: 'gateway', aud: svc.config.issuer, client_id: 'gateway', scope: 'events:read', roles: [], jti: randomUUID(), iat: now, exp: now + 300 },
    { typ: 'at+jwt' },
  );
}

async function revokedEventFor(serial: string, timeoutMs = 8000): Promise<PublishedEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = received.find((e) => e.event.type === 'certificate.revoked' && (e.event as { serials: string[] }).serials.includes(serial));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no certificate.revoked for ${serial}; received ${received.map((e) => e.event.type).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function issue(service: string): Promise<string> {
  return (await svc.service.context.pki.issue({ csr: (await makeCsr({ cn: service })).csr, service, actor: 'test' })).serial;
}

before(async () => {
  svc = await startService();
  subscription = subscribeToEventStream({
    url: svc.url,
    token: serviceToken,
    after: await svc.service.context.events.head(),
    onEvent: (event) => received.push(event),
    verify: { jwksUri: `${svc.url}/.well-known/jwks.json`, issuer: svc.config.issuer },
    minBackoff: 50,
    maxBackoff: 500,
  });
});
after(async () => {
  subscription.close();
  await svc.close();
});

test('ok: pki.revoke in the service → a stream subscriber receives certificate.revoked', async () => {
  const serial = await issue('orders');
  await svc.service.context.pki.revoke({ serial, actor: 'test', reason: 'keyCompromise' });
  const { event } = await revokedEventFor(serial);
  assert.deepEqual({ ...event, until: undefined }, { type: 'certificate.revoked', serials: [serial], service: 'orders', until: undefined, reason: 'keyCompromise' });
  assert.equal(typeof (event as { until: number }).until, 'number');
});

test('ok: `gatehouse ca revoke --service` in another process → the subscriber receives certificate.revoked', async () => {
  const serials = [await issue('catalog'), await issue('catalog')];
  // Same configuration as the service: its issuer is the one the subscriber expects on the SETs.
  const result = runCli(['ca', 'revoke', '--service', 'catalog'], { dataDir: svc.dataDir, env: { GATEHOUSE_ISSUER: svc.config.issuer } });
  assert.equal(result.code, 0, result.stderr);
  const { event } = await revokedEventFor(serials[0]!);
  assert.equal((event as { service: string }).service, 'catalog');
  assert.deepEqual([...(event as { serials: string[] }).serials].sort(), [...serials].sort());
});
