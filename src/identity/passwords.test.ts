import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createPasswordHasher, parsePhc } from './passwords.ts';
import { createPasswordPolicy } from './password-policy.ts';
import { GatehouseError } from '../shared/errors.ts';

const owasp = { memory: 19456, passes: 2, parallelism: 1 };

describe('argon2id PHC hashes', () => {
  const hasher = createPasswordHasher(owasp);

  test('ok: hash is a PHC string with the configured parameters and verifies', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.equal(await hasher.verify('correct horse battery staple', phc), true);
    assert.equal(hasher.needsRehash(phc), false);
  });

  test('ok: two hashes of one password differ (random salt)', async () => {
    assert.notEqual(await hasher.hash('same password'), await hasher.hash('same password'));
  });

  test('ok: Unicode is normalized (NFKC) before hashing', async () => {
    const phc = await hasher.hash('caf\u00e9 au lait!');
    assert.equal(await hasher.verify('cafe\u0301 au lait!', phc), true);
  });

  test('fail-wrong-password: verify is false', async () => {
    const phc = await hasher.hash('correct horse battery staple');
    assert.equal(await hasher.verify('correct horse battery stapler', phc), false);
  });

  test('fail-garbage-hash: verify is false and a rehash is due', async () => {
    for (const bad of ['', 'plain', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA', '$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA']) {
      assert.equal(await hasher.verify('x', bad), false);
      assert.equal(hasher.needsRehash(bad), true);
    }
  });

  test('ok: raised parameters → needsRehash, and the old hash still verifies', async () => {
    const old = await createPasswordHasher({ memory: 8192, passes: 1, parallelism: 1 }).hash('correct horse battery staple');
    assert.deepEqual(parsePhc(old)?.params, { memory: 8192, passes: 1, parallelism: 1 });
    assert.equal(hasher.needsRehash(old), true);
    assert.equal(await hasher.verify('correct horse battery staple', old), true);
    assert.equal(createPasswordHasher({ ...owasp, passes: 3 }).needsRehash(await hasher.hash('x')), true);
  });
});

describe('password policy', () => {
  const policy = createPasswordPolicy({ minLength: 8, maxLength: 128, minStrength: 2 });
  const refused = (password: string, context?: { username?: string; email?: string }) => {
    try {
      policy.check(password, context);
    } catch (error) {
      assert.ok(error instanceof GatehouseError);
      assert.equal(error.code, 'weak_password');
      return error.description;
    }
    assert.fail(`expected ${JSON.stringify(password)} to be refused`);
  };

  test('ok: a long passphrase passes', () => {
    policy.check('correct horse battery staple', { username: 'alice', email: 'alice@example.com' });
  });
  test('fail-too-short: says the minimum', () => assert.match(refused('Zx9$k2'), /at least 8/));
  test('fail-too-long: says the maximum', () => assert.match(refused('a'.repeat(129)), /at most 128/));
  test('ok: length counts code points, not UTF-16 units', () => {
    // 8 emoji are 16 UTF-16 units but 8 characters: long enough; 7 are not.
    assert.match(refused('🦊🐙🦉🐢🦔🐝🦋'), /at least 8/);
    assert.doesNotThrow(() => createPasswordPolicy({ minLength: 8, maxLength: 8, minStrength: 0 }).check('🦊🐙🦉🐢🦔🐝🦋🐌'));
  });
  test('fail-common: a common password is refused with advice', () => assert.match(refused('password1'), /common/i));
  // Not in the common-password dictionary: only the keyboard-pattern matcher refuses it.
  test('fail-keyboard: a keyboard row is refused and the advice names the keyboard', () => assert.match(refused('zxcvbnm,./'), /rows of keys on your keyboard/));
  test('fail-user-input: a password built from the username is refused', () => {
    assert.match(refused('zanzibar-bob1', { username: 'zanzibar-bob1' }), /username or email/);
  });
});

test('ok: the default hash concurrency leaves a core to the event loop and a pool thread to signing', async () => {
  const { defaultHashConcurrency } = await import('./index.ts');
  assert.equal(defaultHashConcurrency(1, 4), 1, 'one core: one hash at a time, never none');
  assert.equal(defaultHashConcurrency(2, 4), 1);
  assert.equal(defaultHashConcurrency(4, 4), 3);
  assert.equal(defaultHashConcurrency(16, 4), 3, 'never the whole thread pool');
  assert.equal(defaultHashConcurrency(16, 8), 7);
});
