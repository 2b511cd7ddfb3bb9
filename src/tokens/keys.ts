/**
 * Signing keys and their rotation.
 *
 * There is always a pre-published `next` key beside the `active` one, so a rotation never makes
 * a relying party see a kid it has not fetched yet: `rotate` promotes `next` (already in every
 * cached JWKS) to `active`, retires the old active key — still published until every token it
 * signed has expired — and generates a new `next`. Private JWKs are sealed at rest under the
 * master key (context = kid). A `next` key may be made active only once it has been published for
`tokens.keyActivationDelay` (relying parties refetch JWKS on an unknown kid only after a
cooldown), so two rotations in quick succession cannot activate a key nobody has fetched yet.
The database allows one `active` and one `next` row at most
 * (migration 0003), which makes concurrent first starts and rotations safe.
 */
import { SignJWT, type JWK, type CryptoKey } from 'jose';
import { createHash } from 'node:crypto';
import type { Store, SigningKeyRow, Executor } from '../store/index.ts';
import { isUniqueViolation } from '../store/index.ts';
import type { Config } from '../config/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { GatehouseError } from '../shared/errors.ts';
import { generateSigningKey, sealPrivateJwk, unsealPrivateJwk, importSigningKey, type SigningAlgorithm } from './key-material.ts';
import { createVerificationKeys, type VerificationKeys } from './verification-keys.ts';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  state: 'next' | 'active' | 'retired';
  /** When it entered JWKS (keys are published from creation on). */
  createdAt: number;
  /** A `next` key: from when `rotate` may make it sign (createdAt + tokens.keyActivationDelay). */
  eligibleAt: number | null;
  activatedAt: number | null;
  retireUntil: number | null;
}

export interface RotationResult {
  activeKid: string;
  nextKid: string;
  retiredKid: string;
  /** When the new `next` key may be made active by the following rotation. */
  nextEligibleAt: number;
  /** True when `force` made a key sign before it was eligible. */
  forced: boolean;
}

export interface KeyService {
  /** First start: creates one `active` and one `next` key if missing. Idempotent and safe under concurrent starts. */
  ensureKeys(): Promise<void>;
  /** Private JWKs for oidc-provider's `jwks`: active first, then next, then retired keys still published. */
  providerJwks(): Promise<{ keys: Record<string, unknown>[] }>;
  /** What JWKS serves: the public parts of the same set, then the verify-only keys. */
  publicJwks(): Promise<{ keys: Record<string, unknown>[] }>;
  /** Public keys of another issuer, published for verification only (never used to sign). */
  readonly verifyOnly: VerificationKeys;
  /**
   * Signs `payload` with the active key (alg and kid set from it). Inside a transaction pass it as
   * `executor`: on SQLite a read through another connection would wait for that transaction.
   */
  sign(payload: Record<string, unknown>, header: { typ: string }, executor?: Executor): Promise<string>;
  /**
   * Makes `next` sign. Refused with `key_not_ready` while `next` has been published for less than
   * `tokens.keyActivationDelay` (relying parties may not have fetched it), unless `force`.
   */
  rotate(actor: string, options?: { force?: boolean }): Promise<RotationResult>;
  list(): Promise<SigningKeyInfo[]>;
  /** Changes whenever the published or active set changes; one small query. */
  version(): Promise<string>;
}

export interface KeyServiceDeps {
  store: Store;
  masterKey: Buffer;
  config: Config;
  clock: Clock;
  audit: AuditLog;
}

/** Tolerance for clocks of relying parties when deciding that a retired key signed nothing still valid. */
export const ROTATION_SKEW_SECONDS = 60;

const STATE_ORDER: Record<SigningKeyInfo['state'], number> = { active: 0, next: 1, retired: 2 };

export function createKeyService(deps: KeyServiceDeps): KeyService {
  const { store, masterKey, config, clock, audit } = deps;
  const db = store.db;
  const algorithm: SigningAlgorithm = config.tokens.algorithm;
  /** How long a retired key stays published: the longest lifetime of anything it signed (a client may have its own access-token lifetime, up to maxAccessTokenTtl), plus skew. */
  const retireGrace = Math.max(config.tokens.accessTokenTtl, config.tokens.maxAccessTokenTtl, config.tokens.idTokenTtl) + ROTATION_SKEW_SECONDS;
  const activationDelay = config.tokens.keyActivationDelay;
  // Decrypted/imported keys never change for a kid: cache them.
  const privateJwks = new Map<string, JWK>();
  const verifyOnly = createVerificationKeys({ store, clock, audit });
  const signingKeys = new Map<string, CryptoKey>();

  function privateJwkOf(row: Pick<SigningKeyRow, 'kid' | 'private_jwk_enc'>): JWK {
    let jwk = privateJwks.get(row.kid);
    if (!jwk) {
      jwk = unsealPrivateJwk(masterKey, row.private_jwk_enc, row.kid);
      privateJwks.set(row.kid, jwk);
    }
    return jwk;
  }

  async function signingKeyOf(row: SigningKeyRow): Promise<CryptoKey> {
    let key = signingKeys.get(row.kid);
    if (!key) {
      key = await importSigningKey(privateJwkOf(row), row.alg);
      signingKeys.set(row.kid, key);
    }
    return key;
  }

  /** Keys in JWKS, in publication order: active, next, retired (newest first) until retire_until. */
  async function publishedRows(executor: Executor = db): Promise<SigningKeyRow[]> {
    const now = epochSeconds(clock);
    const rows = await executor
      .selectFrom('signing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('state', '!=', 'retired'), eb('retire_until', '>', now)]))
      .execute();
    return rows.sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || Number(b.retired_at ?? 0) - Number(a.retired_at ?? 0));
  }

  async function insertKey(state: 'active' | 'next', executor: Executor = db): Promise<string> {
    const key = await generateSigningKey(algorithm);
    const now = epochSeconds(clock);
    await executor
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        alg: key.alg,
        state,
        public_jwk: JSON.stringify(key.publicJwk),
        private_jwk_enc: sealPrivateJwk(masterKey, key.privateJwk, key.kid),
        created_at: now,
        activated_at: state === 'active' ? now : null,
        retired_at: null,
        retire_until: null,
      })
      .execute();
    return key.kid;
  }

  async function activeRow(executor: Executor = db): Promise<SigningKeyRow> {
    const row = await executor.selectFrom('signing_keys').selectAll().where('state', '=', 'active').executeTakeFirst();
    if (!row) throw new GatehouseError('internal_error', undefined, { detail: 'no active signing key: ensureKeys() was not run' });
    return row;
  }

  return {
    async ensureKeys() {
      for (const state of ['active', 'next'] as const) {
        const existing = await db.selectFrom('signing_keys').select('kid').where('state', '=', state).executeTakeFirst();
        if (existing) continue;
        try {
          await insertKey(state);
        } catch (error) {
          // Another process created it first: the unique index kept the invariant.
          if (!isUniqueViolation(error)) throw error;
        }
      }
      // Fail at start, with a clear message, when the master key cannot open the stored keys.
      privateJwkOf(await activeRow());
    },

    async providerJwks() {
      const rows = await publishedRows();
      return { keys: rows.map((row) => ({ ...privateJwkOf(row), kid: row.kid, alg: row.alg, use: 'sig' })) };
    },

    async publicJwks() {
      const rows = await publishedRows();
      const own = rows.map((row) => ({ ...(JSON.parse(row.public_jwk) as JWK), kid: row.kid, alg: row.alg, use: 'sig' }));
      return { keys: [...own, ...(await verifyOnly.published())] };
    },

    verifyOnly,

    async sign(payload, header, executor) {
      const row = await activeRow(executor);
      return new SignJWT(payload).setProtectedHeader({ alg: row.alg, kid: row.kid, typ: header.typ }).sign(await signingKeyOf(row));
    },

    async rotate(actor, options = {}) {
      // Generate outside the transaction: an RSA key takes a while and must not hold locks.
      const fresh = await generateSigningKey(algorithm);
      const now = epochSeconds(clock);
      return store.transaction(async (trx) => {
        const current = await trx.selectFrom('signing_keys').select(['kid', 'state', 'created_at']).where('state', 'in', ['active', 'next']).execute();
        const active = current.find((row) => row.state === 'active');
        const next = current.find((row) => row.state === 'next');
        if (!active || !next) throw new GatehouseError('conflict', 'Signing keys are not initialised; start the service once first');
        const eligibleAt = Number(next.created_at) + activationDelay;
        const early = now < eligibleAt;
        if (early && !options.force) {
          throw new GatehouseError('key_not_ready', `The next key ${next.kid} was published ${now - Number(next.created_at)} s ago and may sign from ${new Date(eligibleAt * 1000).toISOString()} (in ${eligibleAt - now} s, tokens.keyActivationDelay): relying parties may not have fetched it yet; rotate then, or use --force`, {
            extensions: { eligibleAt },
          });
        }
        // Retired keys past their publication window signed nothing that is still valid.
        await trx.deleteFrom('signing_keys').where('state', '=', 'retired').where('retire_until', '<=', now).execute();
        const retired = await trx
          .updateTable('signing_keys')
          .set({ state: 'retired', retired_at: now, retire_until: now + retireGrace })
          .where('kid', '=', active.kid)
          .where('state', '=', 'active')
          .executeTakeFirst();
        const promoted = await trx
          .updateTable('signing_keys')
          .set({ state: 'active', activated_at: now })
          .where('kid', '=', next.kid)
          .where('state', '=', 'next')
          .executeTakeFirst();
        if (Number(retired.numUpdatedRows) !== 1 || Number(promoted.numUpdatedRows) !== 1) {
          throw new GatehouseError('conflict', 'The signing keys changed meanwhile (a concurrent rotation); try again');
        }
        await trx
          .insertInto('signing_keys')
          .values({
            kid: fresh.kid,
            alg: fresh.alg,
            state: 'next',
            public_jwk: JSON.stringify(fresh.publicJwk),
            private_jwk_enc: sealPrivateJwk(masterKey, fresh.privateJwk, fresh.kid),
            created_at: now,
            activated_at: null,
            retired_at: null,
            retire_until: null,
          })
          .execute();
        const result = { activeKid: next.kid, nextKid: fresh.kid, retiredKid: active.kid, nextEligibleAt: now + activationDelay, forced: early };
        await audit.record({ event: 'key.rotated', actor, subject: next.kid, data: { ...result, retireUntil: now + retireGrace } }, trx);
        return result;
      });
    },

    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().execute();
      return rows
        .sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state] || Number(b.created_at) - Number(a.created_at))
        .map((row) => ({
          kid: row.kid,
          alg: row.alg,
          state: row.state,
          createdAt: Number(row.created_at),
          eligibleAt: row.state === 'next' ? Number(row.created_at) + activationDelay : null,
          activatedAt: row.activated_at === null ? null : Number(row.activated_at),
          retireUntil: row.retire_until === null ? null : Number(row.retire_until),
        }));
    },

    async version() {
      const now = epochSeconds(clock);
      const rows = await db
        .selectFrom('signing_keys')
        .select(['kid', 'state'])
        .where((eb) => eb.or([eb('state', '!=', 'retired'), eb('retire_until', '>', now)]))
        .execute();
      const verification = await verifyOnly.published();
      const text = [...rows.map((row) => `${row.kid}:${row.state}`), ...verification.map((jwk) => `${jwk.kid}:verify`)].sort().join(',');
      return createHash('sha256').update(text).digest('base64url').slice(0, 16);
    },
  };
}
