/**
 * Password hashing: argon2id from node:crypto (async: runs off the main thread), stored as a
 * PHC string `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (unpadded base64) so the parameters
 * travel with each hash and can be raised later: `needsRehash` says when a stored hash was made
 * with weaker parameters than configured, and the authenticator re-hashes at the next login.
 *
 * Derivations run on the process's hashing threads, at a lower CPU priority than requests
 * (./hashing-threads.ts), and every one goes through one concurrency limit
 * (passwords.maxConcurrentHashes running, passwords.hashQueue waiting, then 503 `server_busy`),
 * so a login flood can neither queue without end nor take the cores token issuance needs.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createConcurrencyLimit } from '../shared/concurrency.ts';
import { isGatehouseError } from '../shared/errors.ts';
import type { Metrics } from '../shared/metrics.ts';
import { hashingThreads, type Argon2Params, type HashingThreads } from './hashing-threads.ts';

export type { Argon2Params };

export interface PasswordHasher {
  /** Rejects with `server_busy` (503) when the hash queue is full. */
  hash(password: string): Promise<string>;
  /** False for a wrong password and for a stored value that is not a hash we understand. Rejects with `server_busy` like `hash`. */
  verify(password: string, phc: string): Promise<boolean>;
  /** True when `phc` was made with weaker parameters than the configured ones (or is unreadable). */
  needsRehash(phc: string): boolean;
}

const SALT_BYTES = 16;
const TAG_BYTES = 32;
const VERSION = 19;

interface ParsedHash {
  params: Argon2Params;
  salt: Buffer;
  tag: Buffer;
}

function derive(threads: HashingThreads, password: string, salt: Buffer, params: Argon2Params, tagLength: number): Promise<Buffer> {
  // NIST 800-63B §5.1.1.2: normalize so the same password typed on another keyboard matches.
  return threads.derive({ message: password.normalize('NFKC'), salt, params, tagLength });
}

const b64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');

export function formatPhc(params: Argon2Params, salt: Buffer, tag: Buffer): string {
  return `$argon2id$v=${VERSION}$m=${params.memory},t=${params.passes},p=${params.parallelism}$${b64(salt)}$${b64(tag)}`;
}

const PHC = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export function parsePhc(phc: string): ParsedHash | undefined {
  const match = PHC.exec(phc);
  if (!match || Number(match[1]) !== VERSION) return undefined;
  const params = { memory: Number(match[2]), passes: Number(match[3]), parallelism: Number(match[4]) };
  const salt = Buffer.from(match[5]!, 'base64');
  const tag = Buffer.from(match[6]!, 'base64');
  if (salt.length < 8 || tag.length < 16) return undefined;
  return { params, salt, tag };
}

export interface HashingLimits {
  /** argon2id derivations at once. */
  maxConcurrent: number;
  /** Derivations that may wait for a slot; beyond them `hash`/`verify` reject with `server_busy`. */
  queue: number;
}

/** No waiting line to speak of for one-off tools; the service passes passwords.maxConcurrentHashes / hashQueue. */
const DEFAULT_LIMITS: HashingLimits = { maxConcurrent: 2, queue: 1000 };
/** passwords.hashNice's default: a hash yields its core to request handling whenever both want it. */
const DEFAULT_HASH_NICE = 10;

export interface PasswordHasherOptions {
  limits?: HashingLimits;
  /** How much lower than the process the hashing threads run (nice increment, 0–19; Linux). */
  niceIncrement?: number;
  metrics?: Metrics | undefined;
}

export function createPasswordHasher(params: Argon2Params, options: PasswordHasherOptions = {}): PasswordHasher {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const threads = hashingThreads(options.niceIncrement ?? DEFAULT_HASH_NICE);
  const slots = createConcurrencyLimit({ limit: limits.maxConcurrent, queue: limits.queue });
  const runs = options.metrics?.counter('gatehouse_password_hashes_total', 'argon2id derivations run (hashing and verifying passwords)');
  const refused = options.metrics?.counter('gatehouse_password_hashes_refused_total', 'argon2id derivations refused because the hash queue was full (answered 503 server_busy)');
  const limited = async (password: string, salt: Buffer, hashParams: Argon2Params, tagLength: number): Promise<Buffer> => {
    try {
      return await slots.run(() => {
        runs?.inc();
        return derive(threads, password, salt, hashParams, tagLength);
      });
    } catch (error) {
      if (isGatehouseError(error) && error.code === 'server_busy') refused?.inc();
      throw error;
    }
  };
  return {
    async hash(password) {
      const salt = randomBytes(SALT_BYTES);
      return formatPhc(params, salt, await limited(password, salt, params, TAG_BYTES));
    },
    async verify(password, phc) {
      const parsed = parsePhc(phc);
      if (!parsed) return false;
      const candidate = await limited(password, parsed.salt, parsed.params, parsed.tag.length);
      return timingSafeEqual(candidate, parsed.tag);
    },
    needsRehash(phc) {
      const parsed = parsePhc(phc);
      if (!parsed) return true;
      const stored = parsed.params;
      return stored.memory < params.memory || stored.passes < params.passes || stored.parallelism < params.parallelism || parsed.tag.length < TAG_BYTES;
    },
  };
}
