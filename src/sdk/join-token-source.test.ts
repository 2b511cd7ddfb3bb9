import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatJoinToken } from '../x509/index.ts';
import { joinTokenSource } from './join-token-source.ts';

const token = (n: number) => formatJoinToken(n.toString(16).padStart(16, '0'), 'A'.repeat(43), 'ab'.repeat(32));

function withFile(run: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'gh-token-'));
  try {
    run(join(dir, 'token'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ok: the first token is joinToken, else the file, else the variable', () => withFile((file) => {
  writeFileSync(file, `${token(2)}\n`);
  process.env.GH_TEST_TOKEN_A = token(3);
  try {
    assert.equal(joinTokenSource({ joinToken: token(1), joinTokenFile: file, joinTokenEnv: 'GH_TEST_TOKEN_A' }).first(), token(1));
    assert.equal(joinTokenSource({ joinTokenFile: file, joinTokenEnv: 'GH_TEST_TOKEN_A' }).first(), token(2));
    assert.equal(joinTokenSource({ joinTokenFile: `${file}.missing`, joinTokenEnv: 'GH_TEST_TOKEN_A' }).first(), token(3));
  } finally {
    delete process.env.GH_TEST_TOKEN_A;
  }
}));

test('ok: fresh() re-reads the file at every call and never returns a token already presented', () => withFile((file) => {
  writeFileSync(file, token(1));
  const source = joinTokenSource({ joinTokenFile: file });
  source.used(source.first());
  assert.equal(source.fresh(), undefined, 'the used token is not offered again');
  writeFileSync(file, `${token(2)}\n`);
  assert.equal(source.fresh(), token(2));
  source.used(token(2));
  assert.equal(source.fresh(), undefined);
}));

test('ok: fresh() re-reads the environment variable; a literal joinToken is never offered again', () => {
  const source = joinTokenSource({ joinToken: token(1), joinTokenEnv: 'GH_TEST_TOKEN_B' });
  source.used(source.first());
  assert.equal(source.fresh(), undefined);
  process.env.GH_TEST_TOKEN_B = token(4);
  try {
    assert.equal(source.fresh(), token(4));
    assert.equal(source.renewable, true);
    assert.equal(source.where, '$GH_TEST_TOKEN_B');
  } finally {
    delete process.env.GH_TEST_TOKEN_B;
  }
  assert.equal(joinTokenSource({ joinToken: token(1) }).renewable, false);
});

test('fail-no-token: no source, or an empty file, is a TypeError naming where it looked', () => withFile((file) => {
  assert.throws(() => joinTokenSource({}), TypeError);
  writeFileSync(file, '\n');
  assert.throws(() => joinTokenSource({ joinTokenFile: file }).first(), (error: Error) => error instanceof TypeError && error.message.includes(file));
}));
