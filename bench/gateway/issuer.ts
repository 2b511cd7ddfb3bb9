/**
 * The benchmark's issuer: a real Security Service (`gatehouse serve auth`, SQLite) in its own
 * process on the load core, idle while a window is measured. Its clients are created with the
 * CLI; every token the benchmark uses comes from its token endpoint or its login form, and the
 * anchors verify with the public key it publishes in JWKS.
 */
import { writeFileSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Pool } from 'undici';
import * as oidc from 'openid-client';
import { cli } from '../lib.ts';
import { Browser, signIn, CALLBACK, PASSWORD } from '../../test/oauth/helpers.ts';
import { startPinned, freePort, waitHttp, repin, CPU_LOAD, CPU_SUT, type Pinned } from './processes.ts';

const MAIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
/** The role and permission of the benchmark's one route (the anchors' authz.ts hard-codes the same). */
export const ROLE = 'orders-reader';
export const PERMISSION = 'orders:read';

export interface Credential { clientId: string; secret: string }

/** The `kid` in a JWT's header: which of the issuer's keys signed it. */
export const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;

export interface Issuer {
  url: string;
  audience: string;
  process: Pinned;
  /** The gateway's own credential (client_credentials, scope events:read). */
  gateway: Credential;
  /** A caller whose client_credentials tokens carry the role `orders-reader`. */
  caller: Credential;
  /** A caller without any role (its tokens must get 403). */
  noRole: Credential;
  /** client_credentials token for `caller` or `noRole`, audience = the gateway's. */
  apiToken(who: Credential): Promise<string>;
  /** The active signing key (from JWKS) as SPKI PEM in `dir`: what the anchors verify with. Returns the file. */
  writePublicKey(dir: string, kid: string): Promise<string>;
  /** `count` distinct valid tokens of `caller`, one per line, minted through the token endpoint. */
  mintTokens(count: number, file: string, log: (line: string) => void): Promise<void>;
  /** Whether this checkout's CLI has `keys import --verify-only`. */
  canImportVerifyOnlyKeys(): boolean;
  /** Publishes a public key (SPKI PEM) in the issuer's JWKS under `kid`, for verification only (CLI). */
  importVerifyOnlyKey(pemFile: string, kid: string): void;
  /** Creates an active user holding `orders-reader` (admin API). */
  createUser(username: string): Promise<void>;
  /** An access token of `username` from the real login form and the code flow. */
  userToken(username: string): Promise<string>;
  /** Disables the user through the admin API (revokes their tokens; publishes tokens.revoked). */
  disableUser(username: string): Promise<void>;
  stop(): Promise<void>;
}

function basic({ clientId, secret }: Credential): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function startIssuer(workDir: string): Promise<Issuer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const audience = `${url}/api`;
  const dataDir = join(workDir, 'issuer-data');
  const configPath = join(workDir, 'issuer.yaml');
  writeFileSync(configPath, stringify({
    issuer: url,
    listen: { host: '127.0.0.1', port, tlsPort: await freePort() },
    log: { level: 'warn', pretty: false },
    resources: [{ audience, scopes: [PERMISSION] }],
    roles: { admin: ['*'], [ROLE]: [PERMISSION] },
    // Tokens minted before pass 1 must still be valid in the last pass.
    tokens: { accessTokenTtl: 3 * 3600 },
  }));
  const run = (args: string[]) => cli(dataDir, ['--config', configPath, ...args]);
  const addClient = (id: string, args: string[]): Credential => ({ clientId: id, secret: (JSON.parse(run(['client', 'add', id, '--id', id, ...args, '--json'])) as { secret: string }).secret });
  run(['migrate']);
  const gateway = addClient('bench-gateway', ['--grant', 'client_credentials', '--scope', 'events:read']);
  const caller = addClient('bench-caller', ['--grant', 'client_credentials', '--scope', PERMISSION, '--role', ROLE]);
  const noRole = addClient('bench-norole', ['--grant', 'client_credentials', '--scope', PERMISSION]);
  const admin = addClient('bench-admin', ['--grant', 'client_credentials', '--scope', 'admin', '--role', 'admin']);
  const web = addClient('bench-web', ['--first-party', '--redirect-uri', CALLBACK, '--grant', 'authorization_code', '--scope', `openid ${PERMISSION}`]);

  const proc = startPinned('issuer', CPU_LOAD, [process.execPath, MAIN, '--config', configPath, '--data-dir', dataDir, 'serve', 'auth'], { logFile: join(workDir, 'issuer.log') });
  await waitHttp(`${url}/readyz`, 60_000, (status) => status === 200);
  const pool = new Pool(url, { connections: 32 });

  async function token(who: Credential, form: Record<string, string>): Promise<string> {
    const { statusCode, body } = await pool.request({
      path: '/oauth2/token', method: 'POST',
      headers: { authorization: basic(who), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...form }).toString(),
    });
    const json = (await body.json()) as { access_token?: string; error?: string };
    if (statusCode !== 200 || json.access_token === undefined) throw new Error(`token endpoint: ${statusCode} ${json.error ?? ''} for ${who.clientId}`);
    return json.access_token;
  }
  const apiToken = (who: Credential) => token(who, { scope: PERMISSION, resource: audience });

  let adminToken: { value: string; until: number } | undefined;
  async function adminCall(method: 'POST', path: string, body?: unknown): Promise<void> {
    if (adminToken === undefined || adminToken.until < Date.now()) {
      adminToken = { value: await token(admin, { scope: 'admin', resource: url }), until: Date.now() + 5 * 60_000 };
    }
    const res = await pool.request({
      path: `/admin/api${path}`, method,
      headers: { authorization: `Bearer ${adminToken.value}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`admin API ${method} ${path}: ${res.statusCode} ${text.slice(0, 200)}`);
  }

  let rp: oidc.Configuration | undefined;
  return {
    url,
    audience,
    process: proc,
    gateway,
    caller,
    noRole,
    apiToken,
    async writePublicKey(dir, kid) {
      const { keys } = (await (await fetch(`${url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> };
      const jwk = keys.find((key) => key.kid === kid);
      if (jwk === undefined) throw new Error(`kid ${kid} is not in the issuer's JWKS`);
      const pemFile = join(dir, 'issuer-public.pem');
      writeFileSync(pemFile, createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
      return pemFile;
    },
    async mintTokens(count, file, log) {
      // Lend the issuer both cores while it signs (nothing is measured meanwhile), 32 requests in flight.
      await repin(proc.pid, `${CPU_LOAD},${CPU_SUT}`);
      const minted: string[] = [];
      let claimed = 0;
      try {
        await Promise.all(Array.from({ length: 32 }, async () => {
          while (claimed < count) {
            claimed += 1;
            minted.push(await token(caller, { scope: PERMISSION, resource: audience }));
            if (minted.length % 20_000 === 0) log(`  ${minted.length} tokens minted`);
          }
        }));
      } finally {
        await repin(proc.pid, CPU_LOAD);
      }
      writeFileSync(file, `${minted.join('\n')}\n`);
    },
    canImportVerifyOnlyKeys() {
      try {
        return run(['keys', 'import', '--help']).includes('--verify-only');
      } catch {
        return false; // no such command
      }
    },
    importVerifyOnlyKey(pemFile, kid) {
      run(['keys', 'import', '--file', pemFile, '--verify-only', '--kid', kid, '--expires', '1d']);
    },
    async createUser(username) {
      await adminCall('POST', '/users', { username, email: `${username}@bench.example`, password: PASSWORD, roles: [ROLE] });
    },
    async userToken(username) {
      rp ??= await oidc.discovery(new URL(url), web.clientId, undefined, oidc.ClientSecretBasic(web.secret), { execute: [oidc.allowInsecureRequests] });
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const authorize = oidc.buildAuthorizationUrl(rp, { redirect_uri: CALLBACK, scope: `openid ${PERMISSION}`, resource: audience, code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
      const callback = await signIn(new Browser(), url, authorize, { username, password: PASSWORD });
      const tokens = await oidc.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state });
      return tokens.access_token;
    },
    async disableUser(username) {
      await adminCall('POST', `/users/${encodeURIComponent(username)}/disable`);
    },
    async stop() {
      await pool.close();
      await proc.stop();
    },
  };
}
