/**
 * Gateway test fixture: a real Security Service (users, the gateway's service client with
 * events:read), recording upstreams (raw `net` servers that keep the exact bytes of every request
 * they receive and answer 200), and a real gateway on a free port, configured through a real
 * gatehouse.yaml in a temp dir (so hot reload works on real files).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { stringify } from 'yaml';
import { startService, type TestService, type TestDialect } from './service.ts';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway/index.ts';

export const PASSWORD = 'Quartz-Lantern-Meadow-8142';

// ── recording upstreams ────────────────────────────────────────────────────────────────────────

export interface RecordedRequest {
  /** Exactly the bytes of the head (request line + headers + CRLFCRLF). */
  head: string;
  method: string;
  target: string;
  /** Headers in order as received, names as spelled. */
  headers: Array<[string, string]>;
  /** Every value of a header (case-insensitive name). */
  header(name: string): string[];
  /** The body as received (de-chunked when chunked). */
  body: Buffer;
}

export interface Answer {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Wait this long before answering (ms). */
  delay?: number;
}

/** What an upstream does with a request: answer, never answer ('hang') or cut the connection ('destroy'). */
export type Responder = (request: RecordedRequest) => Answer | 'hang' | 'destroy';

export interface RecordingUpstream {
  url: string;
  requests: RecordedRequest[];
  /** Connections accepted so far. */
  connections: number;
  respond: Responder;
  close(): Promise<void>;
}

const defaultAnswer: Responder = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });

/** Parses one request from `buffer`, or undefined when incomplete. */
function parseOne(buffer: Buffer): { request: RecordedRequest; used: number } | undefined {
  const end = buffer.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const head = buffer.subarray(0, end + 4).toString('latin1');
  const [requestLine = '', ...lines] = head.slice(0, -4).split('\r\n');
  const [method = '', target = ''] = requestLine.split(' ');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const header = (name: string) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v);
  let offset = end + 4;
  let body: Buffer;
  if (header('transfer-encoding').some((v) => /chunked/i.test(v))) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buffer.indexOf('\r\n', offset);
      if (lineEnd === -1) return undefined;
      const size = parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16);
      if (buffer.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) {
        const trailerEnd = buffer.indexOf('\r\n', lineEnd + 2);
        if (trailerEnd === -1) return undefined;
        offset = trailerEnd + 2;
        break;
      }
      parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const length = Number(header('content-length')[0] ?? 0);
    if (buffer.length < offset + length) return undefined;
    body = Buffer.from(buffer.subarray(offset, offset + length));
    offset += length;
  }
  return { request: { head, method, target, headers, header, body }, used: offset };
}

function writeAnswer(socket: Socket, request: RecordedRequest, answer: Answer): void {
  const body = answer.body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(answer.body) ? answer.body : Buffer.from(answer.body);
  const lines = [`HTTP/1.1 ${answer.status ?? 200} X`];
  for (const [name, value] of Object.entries(answer.headers ?? {})) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
  lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  socket.write(request.method === 'HEAD' ? head : Buffer.concat([head, body]));
}

export function startRecordingUpstream(respond: Responder = defaultAnswer): Promise<RecordingUpstream> {
  const sockets = new Set<Socket>();
  const upstream: RecordingUpstream = { url: '', requests: [], connections: 0, respond, close: async () => {} };
  const server = createServer((socket) => {
    upstream.connections += 1;
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let parsed = parseOne(buffer); parsed !== undefined; parsed = parseOne(buffer)) {
        buffer = buffer.subarray(parsed.used);
        const { request } = parsed;
        upstream.requests.push(request);
        const answer = upstream.respond(request);
        if (answer === 'hang') continue;
        if (answer === 'destroy') {
          socket.destroy();
          return;
        }
        if (answer.delay) setTimeout(() => { if (!socket.destroyed) writeAnswer(socket, request, answer); }, answer.delay);
        else writeAnswer(socket, request, answer);
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      upstream.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      upstream.close = () => new Promise((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      });
      resolve(upstream);
    });
  });
}

// ── the Security Service side ──────────────────────────────────────────────────────────────────

export interface AuthFixture {
  svc: TestService;
  issuer: string;
  audience: string;
  users: { alice: string; bob: string; carol: string };
  gatewayClient: { clientId: string; secret: string };
  /** A real RFC 9068 access token signed by the service's current key. */
  token(claims: { sub: string; roles?: string[]; scope?: string; aud?: string; ttl?: number; clientId?: string; extra?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

export interface StartAuthOptions {
  /** Scope of the gateway's client (default `events:read`; `events:read tokens:exchange` for personal API tokens). */
  gatewayScope?: string;
  /** Config keys of the Security Service. */
  config?: Record<string, unknown>;
  dialect?: TestDialect;
}

export async function startAuth(options: StartAuthOptions = {}): Promise<AuthFixture> {
  const svc = await startService({ ...(options.config ? { config: options.config } : {}), ...(options.dialect ? { dialect: options.dialect } : {}) });
  const ctx = svc.service.context;
  const issuer = svc.config.issuer;
  const audience = svc.config.resources[0]!.audience;
  const alice = await ctx.users.create({ username: 'alice', email: 'alice@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
  const bob = await ctx.users.create({ username: 'bob', email: 'bob@example.com', password: PASSWORD, roles: ['staff'] }, 'test');
  const carol = await ctx.users.create({ username: 'carol', email: 'carol@example.com', password: PASSWORD, roles: ['admin'] }, 'test');
  const client = await ctx.oauth.clients.create({ clientId: 'gateway', name: 'Gateway', firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: options.gatewayScope ?? 'events:read' }, 'test');
  return {
    svc,
    issuer,
    audience,
    users: { alice: alice.id, bob: bob.id, carol: carol.id },
    gatewayClient: { clientId: 'gateway', secret: client.secret! },
    token(claims) {
      const now = Math.floor(Date.now() / 1000);
      return ctx.keys.sign(
        { iss: issuer, sub: claims.sub, aud: claims.aud ?? audience, client_id: claims.clientId ?? 'shop', scope: claims.scope ?? 'openid', roles: claims.roles ?? [], jti: randomUUID(), iat: now, exp: now + (claims.ttl ?? 300), ...claims.extra },
        { typ: 'at+jwt' },
      );
    },
    close: () => svc.close(),
  };
}

// ── the gateway ────────────────────────────────────────────────────────────────────────────────

export interface GatewayFixture {
  gateway: Gateway;
  url: string;
  dir: string;
  configPath: string;
  /** Every log line the gateway wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The raw log text (to search for secrets). */
  logText(): string;
  /** Rewrites gatehouse.yaml with new routes (same services and gateway settings). */
  writeRoutes(routes: unknown[]): void;
  close(): Promise<void>;
}

export interface StartGatewayOptions {
  routes: unknown[];
  services: Record<string, string[]>;
  gateway?: Record<string, unknown>;
  /** Without the gateway client (no event stream). */
  noCredentials?: boolean;
  /** Overrides the Security Service URL the gateway fetches from. */
  securityService?: string;
  env?: NodeJS.ProcessEnv;
  session?: GatewayOptions['session'];
  /** Wait for /readyz 200 (default true). */
  waitReady?: boolean;
  /** Further files written next to gatehouse.yaml before the start (a routes file …). */
  files?: Record<string, string>;
}

export async function startGateway(auth: AuthFixture, options: StartGatewayOptions): Promise<GatewayFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-gw-'));
  const configPath = join(dir, 'gatehouse.yaml');
  const gatewaySection = {
    listen: { host: '127.0.0.1', port: 0 },
    audience: auth.audience,
    ...(options.securityService ? { securityService: options.securityService } : {}),
    ...(options.noCredentials ? {} : { credentials: { clientId: auth.gatewayClient.clientId } }),
    ...options.gateway,
  };
  const document = (routes: unknown[]) => ({ issuer: auth.issuer, log: { level: 'info' }, services: options.services, routes, gateway: gatewaySection });
  writeFileSync(configPath, stringify(document(options.routes)));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(dir, name), text);
  const config = loadConfig({ configPath, env: {} });
  const lines: string[] = [];
  const logger = createLogger({ level: 'trace', destination: { write: (line: string) => { lines.push(line); } } });
  const gateway = await createGateway({
    config,
    logger,
    env: { GATEHOUSE_GATEWAY_CLIENT_SECRET: auth.gatewayClient.secret, ...options.env },
    defaultMetrics: false,
    ...(options.session ? { session: options.session } : {}),
  });
  const url = await gateway.listen();
  if (options.waitReady !== false) await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 10_000, 'gateway /readyz never became 200');
  return {
    gateway,
    url,
    dir,
    configPath,
    get logs() {
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    logText: () => lines.join(''),
    writeRoutes(routes) {
      writeFileSync(configPath, stringify(document(routes)));
    },
    async close() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000, message = 'condition not met in time'): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(message);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** How many complete HTTP/1.1 responses (Content-Length or chunked framing) `text` holds. */
function completeResponses(text: string): number {
  let count = 0;
  let offset = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', offset);
    if (end === -1) return count;
    const head = text.slice(offset, end);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    let next: number;
    if (length) next = end + 4 + Number(length[1]);
    else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const last = text.indexOf('\r\n0\r\n\r\n', end);
      if (last === -1) return count;
      next = last + 7;
    } else next = end + 4;
    if (text.length < next) return count;
    count += 1;
    offset = next;
  }
}

/**
 * Sends raw bytes to `url`'s host and port and collects what comes back until `responses`
 * complete responses arrived, the server closed the connection, or `idleMs` passed without data.
 */
export function rawExchange(url: string, bytes: string | Buffer, options: { responses?: number; idleMs?: number } = {}): Promise<string> {
  const { hostname, port } = new URL(url);
  const wanted = options.responses ?? 1;
  const idleMs = options.idleMs ?? 1000;
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const text = () => Buffer.concat(chunks).toString('latin1');
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(text());
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    };
    socket.on('connect', () => {
      socket.write(bytes);
      arm();
    });
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (completeResponses(text()) >= wanted) done();
      else arm();
    });
    socket.on('end', done);
    socket.on('error', (error) => (chunks.length > 0 ? done() : reject(error)));
  });
}

/** Status codes of the HTTP responses in a raw answer, in order. */
export function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}
