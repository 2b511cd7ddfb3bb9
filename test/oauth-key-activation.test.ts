/**
 * Back-to-back key rotations against a relying party on jose defaults (`createRemoteJWKSet`
 * against the real JWKS URL: it refetches on an unknown kid at most every 30 s). Tokens are issued
 * and verified continuously while keys rotate faster than tokens.keyActivationDelay allows. The
 * service's clock runs ahead by a settable offset, so a key can be old enough without waiting 60 s.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader, errors as joseErrors } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';
import type { Clock } from '../src/shared/clock.ts';

interface Verified { kid: string; error?: string }

await forEachDialect('key activation delay', (dialect) => {
  let fx: OAuthFixture;
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset };
  before(async () => { fx = await startOAuthService(dialect, { clock }); });
  after(async () => { await fx.close(); });

  /** Issues client_credentials tokens and verifies each with a fresh jose-default verifier until stopped. */
  function load() {
    const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
    const results: Verified[] = [];
    let running = true;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'books:read' }, basic('orders-svc', fx.service.secret));
        assert.equal(res.status, 200);
        const token = ((await res.json()) as { access_token: string }).access_token;
        const kid = decodeProtectedHeader(token).kid!;
        try {
          await jwtVerify(token, jwks, { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
          results.push({ kid });
        } catch (error) {
          if (!(error instanceof joseErrors.JOSEError)) throw error;
          results.push({ kid, error: error.code });
        }
      }
    });
    return { results, stop: async () => { running = false; await Promise.all(loops); } };
  }

  const rotate = async (force = false) => {
    const result = await fx.svc.service.context.keys.rotate('test', { force });
    await fx.svc.service.context.oauth.checkKeys(); // what the key check timer does within keyCheckInterval
    return result;
  };

  test('ok: a second rotation 2 s after the first is refused, and every token verifies throughout', async () => {
    offset += 61_000; // the current next key has been published long enough
    const run = load();
    await sleep(700);
    const first = await rotate();
    await sleep(2000);
    await assert.rejects(rotate(), (error: { code?: string }) => error.code === 'key_not_ready');
    await sleep(1000);
    await run.stop();
    assert.deepEqual(run.results.filter((r) => r.error !== undefined), [], 'every token verified');
    assert.ok(run.results.some((r) => r.kid === first.activeKid), 'tokens of the rotated-in key were verified');
  });

  test('fail-forced: --force activates a key published 2 s earlier; a jose-default verifier rejects its tokens', async () => {
    offset += 61_000;
    const run = load();
    await sleep(700);
    await rotate();
    await sleep(2000);
    const forced = await rotate(true);
    assert.equal(forced.forced, true);
    await sleep(1000);
    await run.stop();
    const failed = run.results.filter((r) => r.error !== undefined);
    assert.ok(failed.length > 0, 'tokens of the forced key failed to verify');
    assert.ok(failed.every((r) => r.kid === forced.activeKid && r.error === 'ERR_JWKS_NO_MATCHING_KEY'), JSON.stringify(failed.slice(0, 3)));
  });
});
