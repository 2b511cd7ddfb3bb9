/**
 * The rows of the gateway benchmark: what runs alone on the core under test (CPU_SUT), how it is
 * started, whether it checks tokens, and which tokens wrk sends it. Every target forwards
 * `GET /api/orders` to the same upstream on the load core.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startPinned, CPU_SUT, type Pinned } from './processes.ts';
import { haproxyJwtConfig } from './anchors/haproxy.ts';
import { PERMISSION } from './issuer.ts';

const NODE = process.execPath;
const ANCHORS = new URL('./anchors/', import.meta.url).pathname;
const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
export const HAPROXY = process.env.HAPROXY ?? 'haproxy';
export const URL_PATH = '/api/orders';

export type RowName = 'upstream' | 'node' | 'node-jose' | 'haproxy-jwt' | 'fastify' | 'gateway-reuse' | 'gateway-fresh';

/** What a row needs to start its process. */
export interface RowContext {
  workDir: string;
  /** File prefix for this row and pass (logs). */
  tag: string;
  port: number;
  upstreamUrl: string;
  issuer: { url: string; audience: string; gatewayClientId: string; gatewaySecret: string };
  publicKeyFile: string;
  /** A command the process under test runs under (bench/gateway-instructions.ts: callgrind). */
  wrapper?: readonly string[];
}

export interface Row {
  name: RowName;
  label: string;
  /** Checks tokens: no token and a bad signature → 401, a token without the role → 403. */
  auth: boolean;
  /** Sends a different token with every request (from the minted token file). */
  freshTokens: boolean;
  /** A debian binary the row needs (skipped, and said so, when it is missing). */
  needs?: string;
  start(ctx: RowContext): Pinned;
  /** Path answered 200 once the process is ready to be measured (default: any HTTP answer on URL_PATH). */
  readyPath?: string;
}

function anchorEnv(ctx: RowContext, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, NODE_ENV: 'production', PORT: String(ctx.port), UPSTREAM_URL: ctx.upstreamUrl,
    JWT_PUBLIC_KEY_FILE: ctx.publicKeyFile, JWT_ISSUER: ctx.issuer.url, JWT_AUDIENCE: ctx.issuer.audience, ...extra,
  };
}

/** Extra node flags for the Node anchors, e.g. ANCHOR_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to compare profiles with the gateway's. */
const ANCHOR_NODE_FLAGS = (process.env.ANCHOR_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

function nodeAnchor(ctx: RowContext, file: string, extra: NodeJS.ProcessEnv): Pinned {
  return startPinned(file, CPU_SUT, [NODE, ...ANCHOR_NODE_FLAGS, join(ANCHORS, file)], { env: anchorEnv(ctx, extra), logFile: join(ctx.workDir, `${ctx.tag}.log`), wrapper: ctx.wrapper });
}

/** What a benchmark changes in the gateway rows' gatehouse.yaml: its routes, and `gateway.*` settings added. */
export interface GatewayConfigChanges {
  routes?: unknown[];
  gateway?: Record<string, unknown>;
}

/**
 * gatehouse.yaml of the gateway row: one service, the issuer, the gateway's credential (secret in
 * a 0600 file), access log on; one route (`GET URL_PATH` needing the permission) unless `changes` says otherwise.
 */
function writeGatewayConfig(ctx: RowContext, changes: GatewayConfigChanges): string {
  const secretFile = join(ctx.workDir, 'gateway-client-secret');
  writeFileSync(secretFile, ctx.issuer.gatewaySecret, { mode: 0o600 });
  // One file per row: two gateways run side by side, and each watches its own configuration.
  const configPath = join(ctx.workDir, `${ctx.tag}.gateway.yaml`);
  writeFileSync(configPath, stringify({
    issuer: ctx.issuer.url,
    log: { level: 'info', pretty: false },
    services: { orders: [ctx.upstreamUrl] },
    routes: changes.routes ?? [{ methods: ['GET'], path: URL_PATH, service: 'orders', permissions: [PERMISSION] }],
    gateway: {
      listen: { host: '127.0.0.1', port: ctx.port },
      audience: ctx.issuer.audience,
      credentials: { clientId: ctx.issuer.gatewayClientId, secretFile },
      accessLog: true,
      ...changes.gateway,
    },
  }));
  return configPath;
}

/** Extra node flags for the gateway only, e.g. GATEWAY_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" (NODE_OPTIONS refuses --cpu-prof). */
const GATEWAY_NODE_FLAGS = (process.env.GATEWAY_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);

/** ACCESS_LOG=devnull sends the gateway's log to /dev/null instead of a file (the access log stays on: pino still formats and writes every line). */
export const ACCESS_LOG_TO_DEV_NULL = process.env.ACCESS_LOG === 'devnull';

/** `gatehouse serve gateway`; its stdout (the JSON log with one access-log line per request) goes to a file. */
export function startGateway(ctx: RowContext, changes: GatewayConfigChanges = {}): Pinned {
  const configPath = writeGatewayConfig(ctx, changes);
  return startPinned('gateway', CPU_SUT, [NODE, ...GATEWAY_NODE_FLAGS, MAIN, '--config', configPath, 'serve', 'gateway'], {
    env: { ...process.env, NODE_ENV: 'production' }, cwd: ctx.workDir, logFile: ACCESS_LOG_TO_DEV_NULL ? '/dev/null' : join(ctx.workDir, `${ctx.tag}.access.log`), wrapper: ctx.wrapper,
  });
}

/**
 * In the order the windows go round in: each gateway row sits next to the anchors it is held
 * against (the bare proxy and fastify beside the reused token, the one-verification bound beside
 * the fresh one), so a pass's ratios compare windows seconds apart.
 */
export const ROWS: Row[] = [
  { name: 'upstream', label: 'upstream direct (a second upstream alone on the core under test: the ceiling)', auth: false, freshTokens: false,
    start: (ctx) => nodeAnchor(ctx, 'upstream.ts', {}) },
  { name: 'haproxy-jwt', label: 'HAProxy jwt_verify ES256 + iss/aud/exp + role check', auth: true, freshTokens: false, needs: HAPROXY,
    start(ctx) {
      const configFile = join(ctx.workDir, 'haproxy-jwt.cfg');
      writeFileSync(configFile, haproxyJwtConfig({ port: ctx.port, upstreamPort: Number(new URL(ctx.upstreamUrl).port), publicKeyFile: ctx.publicKeyFile, issuer: ctx.issuer.url, audience: ctx.issuer.audience }));
      return startPinned('haproxy', CPU_SUT, [HAPROXY, '-db', '-f', configFile], { logFile: join(ctx.workDir, `${ctx.tag}.log`), wrapper: ctx.wrapper });
    } },
  { name: 'node', label: 'bare Node proxy, no auth (node:http + undici Pool.stream())', auth: false, freshTokens: false,
    start: (ctx) => nodeAnchor(ctx, 'node-proxy.ts', { AUTH: 'none' }) },
  { name: 'gateway-reuse', label: 'Gatehouse gateway (`gatehouse serve gateway`), client reusing its token', auth: true, freshTokens: false, readyPath: '/readyz',
    start: (ctx) => startGateway(ctx) },
  { name: 'fastify', label: 'fastify 5 + @fastify/jwt + @fastify/http-proxy', auth: true, freshTokens: false,
    start: (ctx) => nodeAnchor(ctx, 'fastify-proxy.ts', {}) },
  { name: 'node-jose', label: 'bare Node proxy + jose jwtVerify per request + route check (one-verification bound)', auth: true, freshTokens: false,
    start: (ctx) => nodeAnchor(ctx, 'node-proxy.ts', { AUTH: 'jose' }) },
  { name: 'gateway-fresh', label: 'Gatehouse gateway (`gatehouse serve gateway`), a fresh token per request', auth: true, freshTokens: true, readyPath: '/readyz',
    start: (ctx) => startGateway(ctx) },
];

export const ROW_NAMES: RowName[] = ROWS.map((row) => row.name);
