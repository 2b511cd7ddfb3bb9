/**
 * oidc-provider's storage: every model (sessions, interactions, grants, codes, refresh tokens,
 * opaque access tokens …) in one `oidc_models` table keyed by (model, id); clients come from our
 * `clients` table. Works the same on SQLite and PostgreSQL.
 *
 * - Expiry is honoured on read: `find` answers undefined once `expires_at` has passed.
 * - `consume` is one conditional UPDATE. If it changes nothing, someone consumed the code or
 *   refresh token first (two parallel exchanges): that is a replay, so the whole grant is revoked
 *   and the exchange fails with `invalid_grant`, exactly like a sequential reuse.
 */
import { errors } from 'oidc-provider';
import type { Executor, Store } from '../store/index.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { clientMetadata, findClientRow } from './clients.ts';
import type { InterruptedRotations } from './interrupted-rotations.ts';
import type { ClientService } from './types.ts';

type Payload = Record<string, unknown>;

export interface OidcAdapter {
  upsert(id: string, payload: Payload, expiresIn: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

/** Thrown when a code or refresh token is consumed a second time; carries the revoked grant. */
export class ConsumedTwiceError extends errors.InvalidGrant {
  readonly grantId: string | undefined;
  readonly model: string;
  /** The user the grant belonged to (for the audit entry). */
  readonly accountId: string | undefined;
  constructor(model: string, grantId: string | undefined, accountId?: string) {
    super(`${model} already consumed`);
    this.grantId = grantId;
    this.model = model;
    this.accountId = accountId;
  }
}

const REPLAY_DETECTED = new Set(['AuthorizationCode', 'RefreshToken']);

export function createAdapterFactory(deps: { store: Store; clock: Clock; interrupted?: Pick<InterruptedRotations, 'settle'>; clients?: Pick<ClientService, 'registerDynamic'> }): (model: string) => OidcAdapter {
  const { store, clock, interrupted, clients } = deps;
  const db = store.db;
  const now = () => epochSeconds(clock);

  function parse(row: { payload: string; expires_at: number | null; consumed_at: number | null } | undefined): Payload | undefined {
    if (!row) return undefined;
    if (row.expires_at !== null && Number(row.expires_at) <= now()) return undefined;
    const payload = JSON.parse(row.payload) as Payload;
    if (row.consumed_at !== null) payload.consumed = Number(row.consumed_at);
    return payload;
  }

  const clientAdapter: OidcAdapter = {
    async find(id) {
      const row = await findClientRow(store, id);
      return row ? clientMetadata(row, now()) : undefined;
    },
    // Only dynamic registration (RFC 7591) stores a client through the provider: into our table, validated like `client add`.
    async upsert(_id, payload) {
      if (!clients) throw new TypeError('clients are registered with `gatehouse client add`, not through the provider');
      await clients.registerDynamic(payload);
    },
    async findByUid() { return undefined; },
    async findByUserCode() { return undefined; },
    async consume() { throw new TypeError('clients cannot be consumed'); },
    async destroy() { throw new TypeError('clients are removed with `gatehouse client remove`'); },
    async revokeByGrantId() {},
  };

  async function insertReplayMark(id: string, payload: Payload, expiresIn: number): Promise<void> {
    const result = await db
      .insertInto('oidc_models')
      .values({ model: 'ReplayDetection', id, payload: JSON.stringify(payload), grant_id: null, uid: null, user_code: null, account_id: null, consumed_at: null, expires_at: now() + Math.max(1, expiresIn) })
      .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet({ payload: JSON.stringify(payload), expires_at: now() + Math.max(1, expiresIn) }).where('oidc_models.expires_at', '<=', now()))
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 1) === 0) throw new errors.InvalidClientAuth('client assertion tokens must only be used once');
  }

  return (model) => {
    if (model === 'Client') return clientAdapter;
    const select = () => db.selectFrom('oidc_models').select(['payload', 'expires_at', 'consumed_at']).where('model', '=', model);
    return {
      async upsert(id, payload, expiresIn) {
        // A client assertion's jti is stored once (private_key_jwt): of two parallel requests with
        // the same assertion, the second insert finds the row and is refused like a sequential reuse.
        if (model === 'ReplayDetection') return insertReplayMark(id, payload, expiresIn);
        const values = {
          payload: JSON.stringify(payload),
          grant_id: typeof payload.grantId === 'string' ? payload.grantId : null,
          uid: typeof payload.uid === 'string' ? payload.uid : null,
          user_code: typeof payload.userCode === 'string' ? payload.userCode : null,
          account_id: typeof payload.accountId === 'string' ? payload.accountId : null,
          expires_at: expiresIn ? now() + expiresIn : null,
        };
        await db
          .insertInto('oidc_models')
          .values({ model, id, consumed_at: null, ...values })
          .onConflict((oc) => oc.columns(['model', 'id']).doUpdateSet(values))
          .execute();
      },
      async find(id) {
        // A refresh token whose rotation a store outage cut off is unconsumed before it is read.
        if (model === 'RefreshToken' && interrupted) await interrupted.settle(id);
        return parse(await select().where('id', '=', id).executeTakeFirst());
      },
      async findByUid(uid) {
        return parse(await select().where('uid', '=', uid).executeTakeFirst());
      },
      async findByUserCode(userCode) {
        return parse(await select().where('user_code', '=', userCode).executeTakeFirst());
      },
      async consume(id) {
        const result = await db
          .updateTable('oidc_models')
          .set({ consumed_at: now() })
          .where('model', '=', model)
          .where('id', '=', id)
          .where('consumed_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1 || !REPLAY_DETECTED.has(model)) return;
        const row = await db.selectFrom('oidc_models').select(['grant_id', 'account_id']).where('model', '=', model).where('id', '=', id).executeTakeFirst();
        const grantId = row?.grant_id ?? undefined;
        if (grantId) await deleteGrant(db, grantId);
        throw new ConsumedTwiceError(model, grantId, row?.account_id ?? undefined);
      },
      async destroy(id) {
        await db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
      },
      async revokeByGrantId(grantId) {
        await db.deleteFrom('oidc_models').where('model', '=', model).where('grant_id', '=', grantId).execute();
      },
    };
  };
}

/** Deletes a grant and everything issued under it (codes, refresh tokens, opaque access tokens). */
export async function deleteGrant(executor: Executor, grantId: string): Promise<void> {
  await executor
    .deleteFrom('oidc_models')
    .where((eb) => eb.or([eb('grant_id', '=', grantId), eb.and([eb('model', '=', 'Grant'), eb('id', '=', grantId)])]))
    .execute();
}

/** Drops rows that expired more than `grace` seconds ago (they are already invisible to `find`). */
export async function sweepExpired(store: Store, clock: Clock, grace = 3600): Promise<void> {
  const cutoff = epochSeconds(clock) - grace;
  await store.db.deleteFrom('oidc_models').where('expires_at', '<', cutoff).execute();
  await store.db.deleteFrom('issued_tokens').where('expires_at', '<', cutoff).execute();
}
