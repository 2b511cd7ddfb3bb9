/**
 * Ceilings on one core, measured in the same run as the endpoint benchmarks (this file runs in a
 * child pinned to CPU_SUT): ES256 JWT signing (every token costs one) and argon2id hashing at the
 * configured parameters with `concurrency` hashes in flight (what one login costs).
 * Prints one JSON line.
 */
import { argon2, randomBytes } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';

const seconds = Number(process.argv[2] ?? 4);
const concurrency = Number(process.argv[3] ?? 4);

async function signRate(): Promise<number> {
  const { privateKey } = await generateKeyPair('ES256');
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  while (performance.now() < end) {
    await new SignJWT({ sub: 'bench', scope: 'books:read' }).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' }).setIssuedAt().setExpirationTime('10m').sign(privateKey);
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function hash(): Promise<void> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: 'correct horse battery staple', nonce: randomBytes(16), memory: 19456, passes: 2, parallelism: 1, tagLength: 32 }, (error) => (error ? reject(error) : resolve()));
  });
}

/** Hashes per second, and CPU milliseconds per hash (all threads of this process). */
async function argon2Rate(): Promise<{ perSecond: number; cpuMs: number }> {
  // Warm up with the same concurrency for a while: the allocator settles on reusing the 19 MiB
  // blocks (a cold process pays page faults per hash that a running server does not).
  const warm = performance.now() + 1500;
  await Promise.all(Array.from({ length: concurrency }, async () => { while (performance.now() < warm) await hash(); }));
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) { await hash(); n++; }
  }));
  const used = process.cpuUsage(cpu);
  return { perSecond: n / ((performance.now() - start) / 1000), cpuMs: (used.user + used.system) / 1000 / n };
}

const bareHash = await argon2Rate();
console.log(JSON.stringify({ es256SignPerSecond: await signRate(), argon2PerSecond: bareHash.perSecond, argon2CpuMs: bareHash.cpuMs }));
