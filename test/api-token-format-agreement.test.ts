/**
 * The gateway checks personal API tokens with src/shared/api-token-format.ts before it asks the
 * Security Service, which makes and checks them with src/tokens/api-tokens/format.ts: the two
 * must agree on every token, or the gateway would refuse good tokens offline (or waste an
 * exchange on bad ones). Until the two are one module, this keeps them in step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as shared from '../src/shared/api-token-format.ts';
import * as service from '../src/tokens/api-tokens/format.ts';

test('ok: tokens made by either module pass the other\'s check', () => {
  for (let i = 0; i < 200; i++) {
    assert.equal(shared.tokenShapeProblem(service.generateApiToken()), undefined);
    assert.equal(service.tokenShapeProblem(shared.generateApiToken()), undefined);
  }
  assert.equal(shared.API_TOKEN_LENGTH, service.API_TOKEN_LENGTH);
  assert.equal(String(shared.API_TOKEN_PATTERN), String(service.API_TOKEN_PATTERN));
});

test('fail-checksum: both refuse the same broken tokens the same way', () => {
  const token = service.generateApiToken();
  for (const bad of [token.slice(0, 20) + (token[20] === 'a' ? 'b' : 'a') + token.slice(21), token.slice(0, -1), `${token}x`, `ghp_${token.slice(4)}`]) {
    assert.equal(shared.tokenShapeProblem(bad), service.tokenShapeProblem(bad), bad);
    assert.notEqual(shared.tokenShapeProblem(bad), undefined);
  }
});
