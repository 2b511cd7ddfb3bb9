/** The security event stream over real HTTP: SSE with resume, RFC 8936 polling, authentication. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { jwtVerify, createLocalJWKSet, decodeProtectedHeader, decodeJwt } from 'jose';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { openStore } from '../src/store/index.ts';
import { createKeyService } from '../src/tokens/index.ts';
import { createEventBus, EVENT_TYPE_URIS, type TokensRevoked, type PublishedEvent } from '../src/events/index.ts';
import { createSseParser, subscribeToEventStream } from '../src/sdk/index.ts';
import { createAuditLog } from '../src/events/audit.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { systemClock } from '../src/shared/clock.ts';

const revoked = (subject: string): TokensRevoked => ({ type: 'tokens.revoked', subject, tokenIds: ['jti-1'], issuedBefore: 1, until: 2, reason: 'user_disabled' });

/** A service credential as the OAuth component will mint it: audience = issuer, scope events:read. */
function serviceToken(svc: TestService, options: { scope?: string; clientId?: string; ttl?: number } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return svc.service.context.keys.sign(
    { iss: svc.config.issuer, sub: options.clientId ?? 'gateway', aud: svc.config.issuer, client_id: options.clientId ?? 'gateway', scope: options.scope ?? 'events:read', roles: [], jti: randomUUID(), iat: now, exp: now + (options.ttl ?? 300) },
    { typ: 'at+jwt' },
  );
}

interface Message { id: string | undefined; event: string; data: string }

/** Opens GET /events/stream and queues the messages it receives. */
async function openStream(svc: TestService, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(`${svc.url}/events/stream`, { headers, signal: controller.signal });
  const queue: Message[] = [];
  const waiters: Array<() => void> = [];
  if (response.status === 200) {
    const parse = createSseParser((message) => { queue.push(message); waiters.shift()?.(); });
    void (async () => {
      const decoder = new TextDecoder();
      try { for await (const chunk of response.body as AsyncIterable<Uint8Array>) parse(decoder.decode(chunk, { stream: true })); } catch { /* closed */ }
    })();
  }
  return {
    response,
    async next(timeoutMs = 5000): Promise<Message> {
      if (queue.length === 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no event arrived')), timeoutMs);
          waiters.push(() => { clearTimeout(timer); resolve(); });
        });
      }
      return queue.shift()!;
    },
    pending: () => queue.length,
    close: () => controller.abort(),
  };
}

const waitFor = async (condition: () => boolean, timeoutMs = 5000) => {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

await forEachDialect('security event stream', (dialect) => {
  let svc: TestService;
  before(async () => { svc = await startService({ dialect }); });
  after(async () => { await svc.close(); });

  test('ok: a published event reaches an SSE subscriber as a SET that verifies with the public JWKS', async () => {
    const token = await serviceToken(svc);
    const stream = await openStream(svc, { authorization: `Bearer ${token}`, 'last-event-id': String(await svc.service.context.events.head()) });
    assert.equal(stream.response.status, 200);
    assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const published = await svc.service.context.events.publish({ ...revoked('user-a'), sessionId: 'sid-1' });
    const message = await stream.next();
    stream.close();
    assert.equal(message.id, String(published.seq));
    assert.equal(message.event, 'tokens.revoked');
    assert.equal(decodeProtectedHeader(message.data).typ, 'secevent+jwt');
    const { payload } = await jwtVerify(message.data, createLocalJWKSet((await svc.service.context.keys.publicJwks()) as never), { issuer: svc.config.issuer, typ: 'secevent+jwt' });
    assert.equal(payload.jti, published.id);
    const body = (payload.events as Record<string, Record<string, unknown>>)[EVENT_TYPE_URIS['tokens.revoked']]!;
    assert.equal(body.subject, 'user-a');
    assert.equal(body.session_id, 'sid-1');
    assert.deepEqual(body.token_ids, ['jti-1']);
    assert.deepEqual(payload.sub_id, { format: 'iss_sub', iss: svc.config.issuer, sub: 'user-a' });
  });

  test('ok: after a disconnect, Last-Event-ID resumes with exactly the missed events', async () => {
    const bus = svc.service.context.events;
    const token = await serviceToken(svc);
    const first = await openStream(svc, { authorization: `Bearer ${token}`, 'last-event-id': String(await bus.head()) });
    const a = await bus.publish(revoked('user-a'));
    assert.equal((await first.next()).id, String(a.seq));
    first.close();
    const b = await bus.publish(revoked('user-b'));
    const c = await bus.publish(revoked('user-c'));
    const second = await openStream(svc, { authorization: `Bearer ${token}`, 'last-event-id': String(a.seq) });
    assert.deepEqual([(await second.next()).id, (await second.next()).id], [String(b.seq), String(c.seq)]);
    const d = await bus.publish(revoked('user-d'));
    assert.equal((await second.next()).id, String(d.seq), 'no duplicates, nothing skipped');
    second.close();
    // ?after= works the same way.
    const byQuery = await fetch(`${svc.url}/events/stream?after=${c.seq}`, { headers: { authorization: `Bearer ${token}` } });
    const reader = byQuery.body!.getReader();
    let text = '';
    while (!text.includes(`id: ${d.seq}\n`)) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.doesNotMatch(text, new RegExp(`id: ${c.seq}\\n`));
  });

  test('ok: an event written by another process (second store connection) reaches the stream', async () => {
    const ctx = svc.service.context;
    const token = await serviceToken(svc);
    const stream = await openStream(svc, { authorization: `Bearer ${token}`, 'last-event-id': String(await ctx.events.head()) });
    const otherStore = openStore({ url: svc.config.database.url, dataDir: svc.dataDir, poolSize: 1 });
    const otherKeys = createKeyService({ store: otherStore, masterKey: ctx.masterKey, config: svc.config, clock: systemClock, audit: createAuditLog(otherStore.db) });
    const otherBus = createEventBus({ store: otherStore, keys: otherKeys, issuer: svc.config.issuer, clock: systemClock, logger: silentLogger() });
    try {
      const published = await otherBus.publish(revoked('user-cli'));
      const message = await stream.next();
      assert.equal(message.id, String(published.seq));
      assert.equal((decodeJwt(message.data).jti), published.id);
    } finally {
      stream.close();
      await otherBus.close();
      await otherStore.close();
    }
  });

  test('ok: in-process subscribers get events of this process and of other processes', async () => {
    const ctx = svc.service.context;
    const seen: PublishedEvent[] = [];
    const unsubscribe = ctx.events.subscribe((event) => seen.push(event));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const otherStore = openStore({ url: svc.config.database.url, dataDir: svc.dataDir, poolSize: 1 });
    const otherBus = createEventBus({ store: otherStore, keys: createKeyService({ store: otherStore, masterKey: ctx.masterKey, config: svc.config, clock: systemClock, audit: createAuditLog(otherStore.db) }), issuer: svc.config.issuer, clock: systemClock, logger: silentLogger() });
    try {
      const local = await ctx.events.publish({ type: 'policy.changed', version: 'v2' });
      assert.equal(seen.at(-1)?.seq, local.seq, 'delivered before publish resolves');
      const remote = await otherBus.publish({ type: 'keys.rotated', activeKid: 'k2' });
      await waitFor(() => seen.some((event) => event.seq === remote.seq));
      assert.deepEqual(seen.find((event) => event.seq === remote.seq)?.event, { type: 'keys.rotated', activeKid: 'k2' });
      assert.equal(seen.filter((event) => event.seq === local.seq).length, 1, 'no double delivery of local events');
    } finally {
      unsubscribe();
      await otherBus.close();
      await otherStore.close();
    }
  });

  test('ok: poll delivery (RFC 8936) redelivers until acknowledged, per subscriber', async () => {
    const bus = svc.service.context.events;
    const token = await serviceToken(svc, { clientId: `poller-${dialect}` });
    const poll = async (body: Record<string, unknown>) => {
      const res = await fetch(`${svc.url}/events/poll`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200);
      return (await res.json()) as { sets: Record<string, string>; moreAvailable: boolean };
    };
    // A new receiver starts with the retained history; acknowledging all of it empties the queue.
    const history = await poll({ returnImmediately: true, maxEvents: 1000 });
    assert.ok(Object.keys(history.sets).length > 0);
    assert.equal((await poll({ ack: Object.keys(history.sets), returnImmediately: true })).moreAvailable, false);
    assert.deepEqual((await poll({ returnImmediately: true })).sets, {});

    const x = await bus.publish(revoked('user-x'));
    const y = await bus.publish(revoked('user-y'));
    const page = await poll({ returnImmediately: true, maxEvents: 1 });
    assert.deepEqual(Object.keys(page.sets), [x.id]);
    assert.equal(page.moreAvailable, true);
    assert.equal(page.sets[x.id], x.set);
    // Acking y alone acknowledges nothing (x is still pending): both come again.
    assert.deepEqual(Object.keys((await poll({ ack: [y.id], returnImmediately: true })).sets), [x.id, y.id]);
    assert.deepEqual(Object.keys((await poll({ ack: [x.id], returnImmediately: true })).sets), [y.id]);
    // Another receiver has its own cursor.
    const other = await fetch(`${svc.url}/events/poll`, { method: 'POST', headers: { authorization: `Bearer ${await serviceToken(svc, { clientId: `other-${dialect}` })}`, 'content-type': 'application/json' }, body: JSON.stringify({ returnImmediately: true, maxEvents: 1000 }) });
    assert.ok(x.id in ((await other.json()) as { sets: Record<string, string> }).sets);

    // A long poll returns as soon as an event is published.
    const waiting = poll({ ack: [y.id], returnImmediately: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const z = await bus.publish(revoked('user-z'));
    assert.deepEqual(Object.keys((await waiting).sets), [z.id]);
  });

  test('fail-validation: a poll request of the wrong shape is a 422 naming the field', async () => {
    const res = await fetch(`${svc.url}/events/poll`, { method: 'POST', headers: { authorization: `Bearer ${await serviceToken(svc)}`, 'content-type': 'application/json' }, body: JSON.stringify({ maxEvents: -1 }) });
    assert.equal(res.status, 422);
    const problem = (await res.json()) as { code: string; errors: Array<{ path: string }> };
    assert.equal(problem.code, 'validation_failed');
    assert.deepEqual(problem.errors.map((e) => e.path), ['maxEvents']);
  });

  test('fail-malformed-json: an unparseable poll body is a 400 invalid_request', async () => {
    const res = await fetch(`${svc.url}/events/poll`, { method: 'POST', headers: { authorization: `Bearer ${await serviceToken(svc)}`, 'content-type': 'application/json' }, body: '{"maxEvents": ' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
  });

  test('fail-no-token / fail-no-scope / fail-wrong-audience: 401 and 403 with WWW-Authenticate', async () => {
    for (const path of ['/events/stream', '/events/poll']) {
      const method = path === '/events/poll' ? 'POST' : 'GET';
      const none = await fetch(`${svc.url}${path}`, { method });
      assert.equal(none.status, 401, path);
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="gatehouse"/);
      const noScope = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${await serviceToken(svc, { scope: 'openid' })}` } });
      assert.equal(noScope.status, 403, path);
      assert.equal(noScope.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", scope="events:read"');
      const now = Math.floor(Date.now() / 1000);
      const otherAudience = await svc.service.context.keys.sign({ iss: svc.config.issuer, sub: 'x', aud: `${svc.config.issuer}/api`, client_id: 'x', scope: 'events:read', jti: randomUUID(), iat: now, exp: now + 60 }, { typ: 'at+jwt' });
      const wrong = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${otherAudience}` } });
      assert.equal(wrong.status, 401, path);
      assert.equal(wrong.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
    }
  });

  test('fail-user-token: a user\'s token with events:read → 403 insufficient_scope on both endpoints', async () => {
    const now = Math.floor(Date.now() / 1000);
    const userToken = (extra: Record<string, unknown>) => svc.service.context.keys.sign({ iss: svc.config.issuer, sub: randomUUID(), aud: svc.config.issuer, client_id: 'shop', scope: 'openid events:read', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 60, ...extra }, { typ: 'at+jwt' });
    // A user's token from a login (with sid), one without sid, and a client's token with a session id.
    const tokens = [await userToken({ sid: 'sid-1' }), await userToken({}), await userToken({ sub: 'shop', sid: 'sid-2' })];
    for (const path of ['/events/stream', '/events/poll']) {
      const method = path === '/events/poll' ? 'POST' : 'GET';
      for (const token of tokens) {
        const res = await fetch(`${svc.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
        assert.equal(res.status, 403, path);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", scope="events:read"');
        assert.equal(((await res.json()) as { code: string }).code, 'insufficient_scope');
      }
    }
  });

  test('ok: subscribeToEventStream reconnects after a drop and resumes from the last seq it saw', async () => {
    const bus = svc.service.context.events;
    const received: PublishedEvent[] = [];
    const connections: Array<{ lastEventId: string | null; abort: AbortController }> = [];
    const droppingFetch: typeof fetch = async (input, init) => {
      const abort = new AbortController();
      init?.signal?.addEventListener('abort', () => abort.abort());
      connections.push({ lastEventId: new Headers(init?.headers).get('last-event-id'), abort });
      return fetch(input, { ...init, signal: abort.signal });
    };
    const subscription = subscribeToEventStream({ url: svc.url, token: () => serviceToken(svc), after: await bus.head(), onEvent: (e) => received.push(e), fetch: droppingFetch, minBackoff: 20, maxBackoff: 100 });
    try {
      await waitFor(() => connections.length === 1);
      const a = await bus.publish(revoked('user-a'));
      await waitFor(() => received.length === 1);
      connections[0]!.abort.abort();
      const b = await bus.publish(revoked('user-b'));
      const c = await bus.publish({ type: 'certificate.revoked', serials: ['1f'], service: 'orders', until: 9, reason: 'keyCompromise' });
      await waitFor(() => received.length === 3);
      assert.deepEqual(received.map((e) => e.seq), [a.seq, b.seq, c.seq]);
      assert.equal(connections[1]?.lastEventId, String(a.seq));
      assert.deepEqual(received[2]!.event, { type: 'certificate.revoked', serials: ['1f'], service: 'orders', until: 9, reason: 'keyCompromise' });
      assert.equal(subscription.lastSeq(), c.seq);
    } finally {
      subscription.close();
    }
  });
});
