/**
 * The do-it-yourself stack: fastify 5 + @fastify/jwt (fast-jwt, no cache) + @fastify/http-proxy
 * (undici), with the anchors' route check in an onRequest hook. PORT, UPSTREAM_URL,
 * JWT_PUBLIC_KEY_FILE, JWT_ISSUER, JWT_AUDIENCE from the environment.
 */
import Fastify from 'fastify';
import fastifyJwt from '@fastify/jwt';
import httpProxy from '@fastify/http-proxy';
import { readFileSync } from 'node:fs';
import { authorize } from './authz.ts';

const app = Fastify({ logger: false });
await app.register(fastifyJwt, {
  secret: { public: readFileSync(process.env.JWT_PUBLIC_KEY_FILE!, 'utf8') },
  verify: { algorithms: ['ES256'], allowedIss: process.env.JWT_ISSUER!, allowedAud: process.env.JWT_AUDIENCE! },
});
await app.register(async (scope) => {
  scope.addHook('onRequest', async (req, reply) => {
    let payload: { roles?: unknown };
    try { payload = await req.jwtVerify<{ roles?: unknown }>(); } catch { return reply.code(401).send({ error: 'unauthorized' }); }
    const status = authorize(req.method, req.url, payload.roles);
    if (status !== 0) return reply.code(status).send({ error: status === 403 ? 'forbidden' : 'not_found' });
  });
  await scope.register(httpProxy, { upstream: process.env.UPSTREAM_URL!, prefix: '/api', rewritePrefix: '/api' });
});
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
console.log(`fastify-proxy :${process.env.PORT}`);
