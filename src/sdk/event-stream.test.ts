import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createSseParser } from './event-stream.ts';
import { eventClaims } from '../shared/security-events.ts';

function parseAll(chunks: string[]) {
  const messages: Array<{ id: string | undefined; event: string; data: string }> = [];
  const parse = createSseParser((m) => messages.push(m));
  for (const chunk of chunks) parse(chunk);
  return messages;
}

test('ok: SSE parser handles split chunks, CRLF, comments and multi-line data', () => {
  const text = ': hello\r\nid: 7\r\nevent: tokens.revoked\r\ndata: a\r\ndata: b\r\n\r\n: heartbeat\n\nid: 8\ndata:c\n\n';
  const expected = [{ id: '7', event: 'tokens.revoked', data: 'a\nb' }, { id: '8', event: 'message', data: 'c' }];
  assert.deepEqual(parseAll([text]), expected);
  // Every split point, including between '\r' and '\n', gives the same messages.
  for (let i = 1; i < text.length; i += 1) assert.deepEqual(parseAll([text.slice(0, i), text.slice(i)]), expected, `split at ${i}`);
});

test('ok: the stream client and the SET vocabulary import nothing but jose and each other', () => {
  for (const file of ['./event-stream.ts', '../shared/security-events.ts']) {
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import (type )?.* from '([^']+)';$/gm)].map((m) => m[2]!);
    for (const from of imports) assert.ok(from === 'jose' || from === '../shared/security-events.ts', `${file} imports ${from}`);
  }
});

test('fail-unverified-sets: with `verify`, SETs signed by another key, for another issuer or of another typ are refused; a valid one still arrives', async (t) => {
  const { createServer } = await import('node:http');
  const { generateKeyPair, exportJWK, SignJWT } = await import('jose');
  const { subscribeToEventStream } = await import('./event-stream.ts');
  const issuer = 'https://issuer.test';
  const ours = await generateKeyPair('ES256');
  const foreign = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(ours.publicKey)), kid: 'ours', alg: 'ES256', use: 'sig' };
  const claims = eventClaims({ type: 'keys.rotated', activeKid: 'k2' }, issuer, 1);
  const set = (key: typeof ours.privateKey, kid: string, options: { iss?: string; typ?: string } = {}) =>
    new SignJWT({ ...claims, iss: options.iss ?? issuer }).setProtectedHeader({ alg: 'ES256', kid, typ: options.typ ?? 'secevent+jwt' }).sign(key);
  const messages = [
    await set(foreign.privateKey, 'ours'),
    await set(ours.privateKey, 'ours', { iss: 'https://elsewhere.test' }),
    await set(ours.privateKey, 'ours', { typ: 'JWT' }),
    await set(ours.privateKey, 'ours'),
  ];
  const server = createServer((req, res) => {
    if (req.url === '/jwks') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(messages.map((data, i) => `id: ${i + 1}\nevent: keys.rotated\ndata: ${data}\n\n`).join(''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const accepted: number[] = [];
  const errors: string[] = [];
  const subscription = subscribeToEventStream({
    url: base,
    token: async () => 'service-token',
    verify: { jwksUri: `${base}/jwks`, issuer },
    onEvent: (event) => accepted.push(event.seq),
    onError: (error) => errors.push(error.message),
  });
  t.after(() => { subscription.close(); server.closeAllConnections(); server.close(); });
  const deadline = Date.now() + 5000;
  while (accepted.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(accepted, [4]);
  assert.equal(errors.filter((m) => /security event [123] was not accepted/.test(m)).length, 3, errors.join('\n'));
});
