/**
 * How long a revocation takes to reach the gateway. The gateway (`gatehouse serve gateway`, on
 * CPU_SUT) serves light background load with the reused client token. First every sample's user
 * is created and signs in through the real login form; then, one user at a time, the gateway
 * answers 200 to their token (so it is verified and cached), the user is disabled through the
 * Security Service's admin API, and the harness asks the gateway again every millisecond until it
 * answers 401. A sample is the time from sending the disable request to the first 401.
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { sleep } from './processes.ts';
import { URL_PATH } from './targets.ts';
import type { Issuer } from './issuer.ts';

export interface RevocationResult {
  /** Milliseconds from the disable request to the gateway's first 401, per sample. */
  samples: number[];
  /** Milliseconds the admin API took to answer the disable request, per sample. */
  disableMs: number[];
  /** Samples where the gateway still answered 200 after GIVE_UP_MS. */
  timedOut: number;
  /** Background requests served during the measurement, and their rate. */
  backgroundRequests: number;
  backgroundRps: number;
}

const GIVE_UP_MS = 10_000;

export async function measureRevocation(issuer: Issuer, gatewayUrl: string, reuseToken: string, count: number, log: (line: string) => void): Promise<RevocationResult> {
  const pool = new Pool(gatewayUrl, { connections: 4 });
  const get = async (token: string) => {
    const { statusCode, body } = await pool.request({ path: URL_PATH, method: 'GET', headers: { authorization: `Bearer ${token}` } });
    await body.dump();
    return statusCode;
  };
  // Light load: one client with the reused token, a request every 2 ms.
  let stop = false;
  let background = 0;
  const started = performance.now();
  const load = (async () => {
    while (!stop) {
      if ((await get(reuseToken)) === 200) background += 1;
      await sleep(2);
    }
  })();

  const result: RevocationResult = { samples: [], disableMs: [], timedOut: 0, backgroundRequests: 0, backgroundRps: 0 };
  const prefix = `rev-${randomBytes(3).toString('hex')}`;
  try {
    // Users and their tokens first, four sign-ins at a time (argon2id at the issuer is the slow part).
    const users: Array<{ username: string; token: string }> = [];
    for (let i = 0; i < count; i += 4) {
      users.push(...await Promise.all(Array.from({ length: Math.min(4, count - i) }, async (_, k) => {
        const username = `${prefix}-${i + k}`;
        await issuer.createUser(username);
        return { username, token: await issuer.userToken(username) };
      })));
    }
    log(`  revocation: ${count} users signed in`);
    for (const { username, token } of users) {
      for (let k = 0; k < 3; k++) {
        const code = await get(token);
        if (code !== 200) throw new Error(`the gateway answered ${code} to ${username}'s token`);
      }
      const t0 = performance.now();
      const disabled = issuer.disableUser(username).then(() => performance.now() - t0);
      disabled.catch(() => {}); // awaited below; a failure must not be an unhandled rejection meanwhile
      let refusedAt: number | undefined;
      while (performance.now() - t0 < GIVE_UP_MS) {
        const code = await get(token);
        if (code === 401) { refusedAt = performance.now() - t0; break; }
        if (code !== 200) throw new Error(`the gateway answered ${code} while ${username} was being disabled`);
        await sleep(1);
      }
      result.disableMs.push(await disabled);
      if (refusedAt === undefined) result.timedOut += 1;
      else result.samples.push(refusedAt);
    }
  } finally {
    stop = true;
    await load;
    result.backgroundRequests = background;
    result.backgroundRps = background / ((performance.now() - started) / 1000);
    await pool.close();
  }
  return result;
}
