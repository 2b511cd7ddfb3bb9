import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, getPriority } from 'node:os';
import { spawnSync } from 'node:child_process';
import { createPasswordHasher, parsePhc } from './passwords.ts';
import { hashingThreads } from './hashing-threads.ts';
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

test('ok: the default hash concurrency leaves a core to the event loop', async () => {
  const { defaultHashConcurrency } = await import('./index.ts');
  assert.equal(defaultHashConcurrency(1), 1, 'one core: one hash at a time, never none');
  assert.equal(defaultHashConcurrency(2), 1);
  assert.equal(defaultHashConcurrency(4), 3);
  assert.equal(defaultHashConcurrency(16), 15);
});

describe('hashing threads', () => {
  /** Nice values of this process's threads, from /proc (Linux). */
  const threadNices = () =>
    readdirSync('/proc/self/task').map((tid) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));

  test('ok: hashes run on threads below the process\'s priority (nice + passwords.hashNice)', async () => {
    const base = getPriority();
    const hasher = createPasswordHasher(owasp, { niceIncrement: 7 });
    assert.equal(await hasher.verify('pw', await hasher.hash('pw')), true);
    assert.deepEqual(hashingThreads(7).priorities, [Math.min(19, base + 7)]);
    assert.ok(threadNices().includes(Math.min(19, base + 7)), 'a thread of this process runs at the lowered priority');
    assert.equal(getPriority(), base, 'the process (its main thread) keeps its priority');
  });

  test('ok: hashNice 0 keeps the threads at the process\'s priority', async () => {
    const hasher = createPasswordHasher(owasp, { niceIncrement: 0 });
    await hasher.hash('pw');
    assert.deepEqual(hashingThreads(0).priorities, [undefined]);
  });

  test('ok: concurrent hashes share the threads and each gets its own answer', async () => {
    const hasher = createPasswordHasher(owasp, { limits: { maxConcurrent: 8, queue: 100 }, niceIncrement: 5 });
    const passwords = Array.from({ length: 12 }, (_, i) => `password number ${i}`);
    const hashes = await Promise.all(passwords.map((password) => hasher.hash(password)));
    const checks = await Promise.all(hashes.map((phc, i) => hasher.verify(passwords[(i + 1) % passwords.length]!, phc)));
    assert.deepEqual(checks, passwords.map(() => false));
    assert.deepEqual(await Promise.all(hashes.map((phc, i) => hasher.verify(passwords[i]!, phc))), passwords.map(() => true));
    assert.ok(hashingThreads(5).priorities.length <= availableParallelism(), 'no more threads than cores');
  });

  test('fail-derivation: a derivation the thread refuses rejects, and the thread keeps working', async () => {
    const threads = hashingThreads(6);
    await assert.rejects(threads.derive({ message: 'pw', salt: Buffer.alloc(16), params: { memory: 1, passes: 1, parallelism: 1 }, tagLength: 32 }), /argon2id failed/);
    const tag = await threads.derive({ message: 'pw', salt: Buffer.alloc(16), params: owasp, tagLength: 32 });
    assert.equal(tag.length, 32);
    assert.ok(Buffer.isBuffer(tag));
  });

  test('ok: a process that hashed exits on its own (idle threads do not hold it open)', () => {
    const script = `import { createPasswordHasher } from ${JSON.stringify(new URL('./passwords.ts', import.meta.url).href)};
      const phc = await createPasswordHasher({ memory: 19456, passes: 2, parallelism: 1 }).hash('pw');
      console.log(phc.startsWith('$argon2id$') ? 'hashed' : 'wrong');`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.error, undefined, 'the process ended before the timeout');
    assert.equal(run.stdout.trim(), 'hashed');
    assert.equal(run.status, 0);
  });
});
