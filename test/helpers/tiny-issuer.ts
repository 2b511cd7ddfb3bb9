/**
 * A tiny issuer for verifier tests: serves discovery, a JWKS whose keys the test controls, and
 * /policy, on a loopback port, and signs tokens with jose. It counts requests per path, so tests
 * can prove what the verifier fetched.
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export interface TinyIssuer {
  issuer: string;
  audience: string;
  key: SigningKey;
  /** Keys served at the JWKS endpoint (mutable). */
  published: JWK[];
  roles: Record<string, string[]>;
  /** Requests per path. */
  hits: Map<string, number>;
  sign(claims?: Record<string, unknown>, header?: Partial<JWTHeaderParameters>, key?: SigningKey): Promise<string>;
  close(): Promise<void>;
}

export async function signingKey(alg = 'ES256', kid: string = randomUUID()): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export async function startTinyIssuer(): Promise<TinyIssuer> {
  const key = await signingKey();
  const hits = new Map<string, number>();
  const state = { published: [key.publicJwk], roles: { staff: ['orders:read', 'books:*'], customer: ['orders:read:own'] } as Record<string, string[]> };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const json = (body: unknown, headers: Record<string, string> = {}) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    if (path === '/.well-known/openid-configuration') return json({ issuer, jwks_uri: `${issuer}/jwks` });
    if (path === '/jwks') return json({ keys: state.published });
    if (path === '/policy') {
      const version = JSON.stringify(state.roles).length.toString(16) + Object.keys(state.roles).join('');
      if (req.headers['if-none-match'] === `"${version}"`) return void res.writeHead(304).end();
      return json({ version, roles: state.roles }, { etag: `"${version}"` });
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const audience = `${issuer}/api`;
  return {
    issuer,
    audience,
    key,
    get published() { return state.published; },
    set published(keys) { state.published = keys; },
    get roles() { return state.roles; },
    set roles(roles) { state.roles = roles; },
    hits,
    async sign(claims = {}, header = {}, signWith = key) {
      const now = Math.floor(Date.now() / 1000);
      const payload = { iss: issuer, sub: 'user-1', aud: audience, client_id: 'shop', jti: randomUUID(), iat: now, exp: now + 600, roles: ['customer'], scope: 'openid books:read', sid: 'session-1', ...claims };
      for (const [name, value] of Object.entries(payload)) if (value === undefined) delete (payload as Record<string, unknown>)[name];
      return new SignJWT(payload).setProtectedHeader({ alg: signWith.alg, kid: signWith.kid, typ: 'at+jwt', ...header } as JWTHeaderParameters).sign(signWith.privateKey);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
