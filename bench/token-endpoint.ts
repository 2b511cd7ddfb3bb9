/**
 * Token endpoint and login throughput of the Security Service, pinned to one core (CPU_SUT), load
 * from the other core. Baselines measured in the same run on the same core: ES256 signing (a
 * token's unavoidable cost) and bare argon2id at the same parameters (the login limit).
 *
 *   npm run bench -- token        (BENCH_SECONDS=8 by default)
 */
import { execFileSync } from 'node:child_process';
import { Pool } from 'undici';
import * as oidc from 'openid-client';
import { startPinnedService, cli, runLoad, table, fmt, pinSelf, CPU_SUT, DURATION_MS, type LoadResult } from './lib.ts';
import { Browser, signIn, formAction, formField, post, CALLBACK } from '../test/oauth/helpers.ts';

const PASSWORD = 'Quartz-Lantern-Meadow-8142';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

async function tokenCall(pool: Pool, authorization: string, form: Record<string, string>): Promise<Record<string, unknown> | undefined> {
  const { statusCode, body } = await pool.request({
    path: '/oauth2/token', method: 'POST',
    headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const json = (await body.json()) as Record<string, unknown>;
  return statusCode === 200 ? json : undefined;
}

export async function benchTokenEndpoint(): Promise<string> {
  pinSelf();
  const micro = JSON.parse(execFileSync('taskset', ['-c', CPU_SUT, process.execPath, new URL('./micro.ts', import.meta.url).pathname, '4', '4'], { encoding: 'utf8' })) as { es256SignPerSecond: number; argon2PerSecond: number; argon2CpuMs: number };
  const svc = await startPinnedService();
  try {
    const env = svc.env;
    const service = JSON.parse(cli(svc.dataDir, ['client', 'add', 'bench-svc', '--id', 'bench-svc', '--grant', 'client_credentials', '--scope', 'books:read', '--json'], env)) as { secret: string };
    const web = JSON.parse(cli(svc.dataDir, ['client', 'add', 'bench-web', '--id', 'bench-web', '--first-party', '--redirect-uri', CALLBACK, '--grant', 'authorization_code', '--grant', 'refresh_token', '--scope', 'openid offline_access books:read', '--json'], env)) as { secret: string };
    // Logins are by different people: one user per login worker (attempts on one name are serialized).
    for (const name of ['benchuser', 'reader1', 'reader2', 'reader3', 'reader4']) {
      cli(svc.dataDir, ['user', 'add', name, '--email', `${name}@example.com`, '--password', PASSWORD, '--role', 'customer'], env);
    }

    const pool = new Pool(svc.url, { connections: 32, pipelining: 1 });
    const ccAuth = basic('bench-svc', service.secret);
    // Warm-up, then measure.
    await runLoad(16, 1500, async () => (await tokenCall(pool, ccAuth, { grant_type: 'client_credentials', scope: 'books:read' })) !== undefined);
    let cpu = svc.cpuSeconds();
    const clientCredentials = await runLoad(16, DURATION_MS, async () => (await tokenCall(pool, ccAuth, { grant_type: 'client_credentials', scope: 'books:read' })) !== undefined);

    // Refresh: each worker owns one grant and keeps rotating its refresh token.
    const config = await oidc.discovery(new URL(svc.url), 'bench-web', undefined, oidc.ClientSecretBasic(web.secret), { execute: [oidc.allowInsecureRequests] });
    const workers = 16;
    const refreshTokens: string[] = [];
    for (let i = 0; i < workers; i++) {
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid offline_access books:read', prompt: 'consent', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: `s${i}` });
      const callback = await signIn(new Browser(), svc.url, url, { username: 'benchuser', password: PASSWORD });
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: `s${i}` });
      refreshTokens.push(tokens.refresh_token!);
    }
    const webAuth = basic('bench-web', web.secret);
    const refreshOnce = async (worker: number) => {
      const result = await tokenCall(pool, webAuth, { grant_type: 'refresh_token', refresh_token: refreshTokens[worker]! });
      if (!result) return false;
      refreshTokens[worker] = String(result.refresh_token);
      return true;
    };
    const ccCpu = (svc.cpuSeconds() - cpu) / clientCredentials.ok;
    await runLoad(workers, 1500, refreshOnce);
    cpu = svc.cpuSeconds();
    const refresh = await runLoad(workers, DURATION_MS, refreshOnce);
    const refreshCpu = (svc.cpuSeconds() - cpu) / refresh.ok;

    // Password logins through the real form. Two measurements: the whole flow (authorize → login
    // page → POST credentials → code), and the credential check alone (POST of the login form to
    // interactions prepared beforehand), which is what the argon2id rate bounds.
    const authorizeUrl = async (worker: number) => oidc.buildAuthorizationUrl(config, { redirect_uri: CALLBACK, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: `l${worker}` });
    const loginOnce = async (worker: number) => {
      const callback = await signIn(new Browser(), svc.url, await authorizeUrl(worker), { username: `reader${worker + 1}`, password: PASSWORD });
      return callback.searchParams.has('code');
    };
    await runLoad(4, 1500, loginOnce);
    cpu = svc.cpuSeconds();
    const loginFlows = await runLoad(4, DURATION_MS, loginOnce);
    const flowCpu = (svc.cpuSeconds() - cpu) / loginFlows.ok;

    const prepared: Array<{ browser: Browser; action: string; csrf: string }> = [];
    const needed = Math.ceil(micro.argon2PerSecond * (DURATION_MS / 1000) * 1.5) + 20;
    for (let i = 0; i < needed; i++) {
      const browser = new Browser();
      const page = await browser.follow((await authorizeUrl(i)).href, svc.url);
      const html = await page.res.text();
      prepared.push({ browser, action: new URL(formAction(html, '/login'), svc.url).href, csrf: formField(html, 'csrf') });
    }
    const postLogin = async (worker: number) => {
      const next = prepared.pop();
      if (!next) return false;
      const res = await post(next.browser, next.action, { csrf: next.csrf, username: `reader${worker + 1}`, password: PASSWORD });
      await res.arrayBuffer();
      return res.status === 303;
    };
    cpu = svc.cpuSeconds();
    const logins = await runLoad(4, DURATION_MS, postLogin);
    const loginCpu = (svc.cpuSeconds() - cpu) / logins.ok;
    if (prepared.length === 0) throw new Error('ran out of prepared login forms: the measurement is cut short');
    await pool.close();

    const row = (name: string, r: LoadResult, cpuPerOp: number, baseline: string, ratio: string) => [name, fmt(r.perSecond), fmt(cpuPerOp * 1000, 2), fmt(r.p50, 1), fmt(r.p99, 1), String(r.failed), baseline, ratio];
    return [
      `Security Service pinned to CPU ${CPU_SUT} (one core), load from the other core, ${DURATION_MS / 1000} s per measurement, SQLite store.`,
      '',
      table(['measurement', 'per second', 'service CPU ms/op', 'p50 ms', 'p99 ms', 'failed', 'baseline (same run, same core)', 'ratio'], [
        row('client_credentials grants', clientCredentials, ccCpu, `ES256 signing ${fmt(micro.es256SignPerSecond)}/s; target 1,200/s; Keycloak sizing 120/s per vCPU`, `${fmt(clientCredentials.perSecond / 1200, 2)}× target; one core's capacity by CPU per op ${fmt(1 / ccCpu)}/s`),
        row('refresh_token grants (rotating)', refresh, refreshCpu, 'target 600/s; Keycloak sizing 120/s per vCPU', `${fmt(refresh.perSecond / 600, 2)}× target; one core's capacity by CPU per op ${fmt(1 / refreshCpu)}/s`),
        row('password logins (POST of the login form)', logins, loginCpu, `bare argon2id m=19456 t=2 p=1, 4 in flight: ${fmt(micro.argon2PerSecond, 1)}/s, ${fmt(micro.argon2CpuMs, 2)} CPU ms/hash`, `${fmt((logins.perSecond / micro.argon2PerSecond) * 100)} % of bare hash rate; ${fmt((micro.argon2CpuMs / (loginCpu * 1000)) * 100)} % by CPU per op`),
        row('whole sign-in flows (authorize → form → code)', loginFlows, flowCpu, 'same', `${fmt((loginFlows.perSecond / micro.argon2PerSecond) * 100)} % of bare hash rate; ${fmt((micro.argon2CpuMs / (flowCpu * 1000)) * 100)} % by CPU per op`),
      ]),
    ].join('\n');
  } finally {
    await svc.stop();
  }
}

if (import.meta.main) console.log(await benchTokenEndpoint());
