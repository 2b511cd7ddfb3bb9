/**
 * Revocation: grants and refresh tokens are deleted from the store (oidc-provider then refuses
 * them), and because JWT access tokens cannot be recalled, a `tokens.revoked` event names the
 * ones still outstanding so gateways can deny them until they expire. `issued_tokens` records
 * every JWT access token issued to a user (jti, grant, session, expiry) for exactly this.
 */
import { sql } from 'kysely';
import type { Store, Executor, StoreTransaction } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus, TokensRevoked } from '../events/types.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import type { GrantRevocation, RevokeUserOptions } from './types.ts';
import { deleteGrant } from './adapter.ts';
import { thirdPartyGrantIds } from './connected-apps.ts';
import { endSessionsIn } from './session-revocation.ts';

export interface RevocationDeps {
  store: Store;
  audit: AuditLog;
  events: Pick<EventBus, 'publish'>;
  clock: Clock;
  logger: Logger;
}

export interface IssuedToken {
  jti: string;
  grantId: string | null;
  subject: string;
  sessionId: string | null;
  clientId: string;
  expiresAt: number;
  /** The personal API token this JWT was exchanged for (./token-exchange.ts). */
  apiTokenId?: string | null;
}

export interface Revoker extends GrantRevocation {
  /** After oidc-provider revoked a grant (reuse, revocation endpoint, logout): publish its outstanding tokens. */
  grantRevoked(grantId: string, reason: string, context: { actor?: string; clientId?: string; ip?: string }): Promise<void>;
  /**
   * Inside `trx` (a client being removed): deletes every grant of the client with what was issued
   * under it, marks its outstanding JWT access tokens revoked and publishes one `tokens.revoked`
   * per affected user. Returns the counts for the audit entry.
   */
  revokeClient(clientId: string, reason: string, trx: StoreTransaction): Promise<{ grants: number; accessTokens: number }>;
  /**
   * Inside `trx` (a personal API token being revoked): marks the JWTs exchanged for it revoked and
   * publishes one `tokens.revoked` naming them (reason `api_token_revoked`). Returns how many.
   */
  revokeApiTokenJwts(apiTokenId: string, subject: string, trx: StoreTransaction): Promise<number>;
  /** Revokes one JWT access token (RFC 7009 for a structured token). */
  revokeAccessToken(token: IssuedToken, reason: string, actor: string): Promise<void>;
  /**
   * Inside `trx` (a user disconnecting a third-party app): deletes the user's `grantIds` of that
   * client with what was issued under them, marks the user's outstanding JWT access tokens of the
   * client revoked and publishes one `tokens.revoked` naming them (only these: issuedBefore 0).
   */
  revokeUserClient(userId: string, clientId: string, grantIds: readonly string[], reason: string, trx: StoreTransaction): Promise<{ grants: number; accessTokens: number }>;
  recordIssued(token: IssuedToken): Promise<void>;
  /** The stored record of a JWT access token, or undefined. */
  issuedToken(jti: string): Promise<(IssuedToken & { revokedAt: number | null }) | undefined>;
  /**
   * Ends sign-in sessions of `userId` (by session uid, or all of them): see ./session-revocation.ts.
   * Returns how many sessions ended.
   */
  endSessions(userId: string, which: readonly string[] | 'all', reason: string, actor: string): Promise<number>;
}

/** Lists (jtis, grant ids) go to the database in chunks of this size: PostgreSQL takes at most 65,535 parameters, SQLite 32,766. */
const CHUNK = 1000;
/**
 * At most this many jtis in one `tokens.revoked` event. Beyond it the event names none and denies
 * by issue time instead (`issuedBefore` = now, for the session when one session holds them all,
 * otherwise for the subject): a consumer keeps one entry, not tens of thousands.
 */
export const MAX_EVENT_TOKEN_IDS = 1000;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface RevokedToken { jti: string; exp: number; sid: string | null; subject: string }

/** Marks the outstanding tokens matching `where` revoked (one UPDATE … RETURNING, or one per chunk of grant ids). */
export async function markRevoked(trx: Executor, now: number, where: { subject?: string; grantIds?: string[]; clientId?: string; apiTokenId?: string }): Promise<RevokedToken[]> {
  const update = (grantIds?: string[]) => {
    let query = trx.updateTable('issued_tokens').set({ revoked_at: now }).where('revoked_at', 'is', null).where('expires_at', '>', now);
    if (where.subject !== undefined) query = query.where('subject', '=', where.subject);
    if (grantIds !== undefined) query = query.where('grant_id', 'in', grantIds);
    if (where.clientId !== undefined) query = query.where('client_id', '=', where.clientId);
    if (where.apiTokenId !== undefined) query = query.where('api_token_id', '=', where.apiTokenId);
    return query.returning(['jti', 'expires_at', 'session_id', 'subject']).execute();
  };
  const rows = [];
  if (where.grantIds === undefined) rows.push(...(await update()));
  else for (const part of chunks(where.grantIds)) for (const row of await update(part)) rows.push(row);
  return rows.map((r) => ({ jti: r.jti, exp: Number(r.expires_at), sid: r.session_id, subject: r.subject }));
}

/** Latest expiry among `tokens`, at least `now` (no spreading: the list may be long). */
function latestExpiry(tokens: readonly RevokedToken[], now: number): number {
  return tokens.reduce((latest, token) => Math.max(latest, token.exp), now);
}

/**
 * What a `tokens.revoked` event says about `tokens` (all of one subject): their jtis, or — past
 * MAX_EVENT_TOKEN_IDS — a cut-off by issue time for the session (when `sessionId` holds them all)
 * or the whole subject, which denies more than these tokens but never fewer.
 */
export function denial(tokens: readonly RevokedToken[], now: number, scope: { sessionId?: string | undefined; issuedBefore: number }): Pick<TokensRevoked, 'sessionId' | 'tokenIds' | 'issuedBefore' | 'until'> {
  const until = latestExpiry(tokens, now);
  if (tokens.length <= MAX_EVENT_TOKEN_IDS) {
    return { ...(scope.sessionId !== undefined ? { sessionId: scope.sessionId } : {}), tokenIds: tokens.map((t) => t.jti), issuedBefore: scope.issuedBefore, until };
  }
  const oneSession = scope.sessionId !== undefined && tokens.every((t) => t.sid === scope.sessionId);
  return { ...(oneSession ? { sessionId: scope.sessionId } : {}), tokenIds: [], issuedBefore: now, until };
}

export function createRevoker(deps: RevocationDeps): Revoker {
  const { store, audit, events, clock } = deps;
  const db = store.db;

  async function revokeUserIn(trx: StoreTransaction, userId: string, reason: string, options: RevokeUserOptions): Promise<void> {
    const now = epochSeconds(clock);
    const owned = await trx.selectFrom('oidc_models').select(['model', 'id', 'grant_id']).where('account_id', '=', userId).execute();
    // A logout keeps the grants of connected third-party apps (their refresh tokens go on working);
    // their outstanding access tokens are denied with the user's others below (the app refreshes).
    const kept = options.keepConnectedApps ? await thirdPartyGrantIds(trx, userId, now) : [];
    const grantIds = [...new Set(owned.map((r) => (r.model === 'Grant' ? r.id : r.grant_id)).filter((g): g is string => typeof g === 'string' && !kept.includes(g)))];
    // A logout keeps the user's other browser sessions; disabling a user ends them all.
    const keepSessions = options.sessionId !== undefined;
    let del = trx.deleteFrom('oidc_models').where('account_id', '=', userId);
    if (keepSessions) del = del.where('model', '!=', 'Session');
    if (kept.length > 0) {
      del = del.where((eb) => eb.and([
        eb.not(eb.and([eb('model', '=', 'Grant'), eb('id', 'in', kept)])),
        eb.or([eb('grant_id', 'is', null), eb('grant_id', 'not in', kept)]),
      ]));
    }
    await del.execute();
    for (const part of chunks(grantIds)) {
      await trx.deleteFrom('oidc_models').where('grant_id', 'in', part).execute();
      await trx.deleteFrom('oidc_models').where('model', '=', 'Grant').where('id', 'in', part).execute();
    }
    const tokens = await markRevoked(trx, now, { subject: userId });
    await audit.record({ event: 'grant.revoked', actor: options.actor ?? 'system', subject: userId, reason, data: { grants: grantIds.length, accessTokens: tokens.length } }, trx);
    await events.publish({ type: 'tokens.revoked', subject: userId, ...denial(tokens, now, { sessionId: options.sessionId, issuedBefore: now }), reason }, { trx });
  }

  return {
    async revokeUser(userId, reason, options = {}) {
      const work = async (trx: StoreTransaction) => revokeUserIn(trx, userId, reason, options);
      await (options.trx ? work(options.trx) : store.transaction(work));
    },

    async revokeClient(clientId, reason, trx) {
      const now = epochSeconds(clock);
      // oidc_models has no client column: the client id is in the JSON payload of each grant.
      const clientOf = store.dialect === 'postgres' ? sql<string>`(payload::jsonb ->> 'clientId')` : sql<string>`json_extract(payload, '$.clientId')`;
      const grants = await trx.selectFrom('oidc_models').select('id').where('model', '=', 'Grant').where(clientOf, '=', clientId).execute();
      const grantIds = grants.map((g) => g.id);
      for (const grantId of grantIds) await deleteGrant(trx, grantId);
      const revoked = await markRevoked(trx, now, { clientId });
      const bySubject = Map.groupBy(revoked, (t) => t.subject);
      for (const [subject, tokens] of bySubject) {
        // Only these tokens (issuedBefore 0): the user's tokens of other clients stay valid.
        await events.publish({ type: 'tokens.revoked', subject, ...denial(tokens, now, { issuedBefore: 0 }), reason }, { trx });
      }
      return { grants: grantIds.length, accessTokens: revoked.length };
    },

    async revokeUserClient(userId, clientId, grantIds, reason, trx) {
      const now = epochSeconds(clock);
      for (const grantId of grantIds) await deleteGrant(trx, grantId);
      const revoked = await markRevoked(trx, now, { subject: userId, clientId });
      if (revoked.length > 0) await events.publish({ type: 'tokens.revoked', subject: userId, ...denial(revoked, now, { issuedBefore: 0 }), reason }, { trx });
      return { grants: grantIds.length, accessTokens: revoked.length };
    },

    async revokeApiTokenJwts(apiTokenId, subject, trx) {
      const now = epochSeconds(clock);
      const revoked = await markRevoked(trx, now, { apiTokenId, subject });
      // Only these tokens (issuedBefore 0): the owner's other tokens stay valid.
      if (revoked.length > 0) await events.publish({ type: 'tokens.revoked', subject, ...denial(revoked, now, { issuedBefore: 0 }), reason: 'api_token_revoked' }, { trx });
      return revoked.length;
    },

    async grantRevoked(grantId, reason, context) {
      const now = epochSeconds(clock);
      const found = await store.transaction(async (trx) => {
        const owner = await trx.selectFrom('issued_tokens').select(['subject', 'client_id']).where('grant_id', '=', grantId).limit(1).executeTakeFirst();
        const revoked = await markRevoked(trx, now, { grantIds: [grantId] });
        return { owner, revoked };
      });
      const subject = found.owner?.subject;
      if (subject === undefined) return; // nothing was ever issued under this grant as a JWT
      const sids = [...new Set(found.revoked.map((t) => t.sid).filter((s): s is string => s !== null))];
      // Tokens of one grant share the session id (sid) of that client's login: deny just that session.
      const scope = sids.length === 1 ? { sessionId: sids[0], issuedBefore: now } : { issuedBefore: 0 };
      await events.publish({ type: 'tokens.revoked', subject, ...denial(found.revoked, now, scope), reason });
      deps.logger.debug({ grantId, reason, clientId: context.clientId }, 'grant revoked');
    },

    async revokeAccessToken(token, reason, actor) {
      const now = epochSeconds(clock);
      await store.transaction(async (trx) => {
        const existing = await trx.selectFrom('issued_tokens').select('jti').where('jti', '=', token.jti).executeTakeFirst();
        if (existing) {
          await trx.updateTable('issued_tokens').set({ revoked_at: now }).where('jti', '=', token.jti).where('revoked_at', 'is', null).execute();
        } else {
          // client_credentials tokens are not recorded at issuance; a revocation records them.
          await trx.insertInto('issued_tokens').values({ jti: token.jti, grant_id: token.grantId, subject: token.subject, session_id: token.sessionId, client_id: token.clientId, expires_at: token.expiresAt, revoked_at: now }).execute();
        }
        await audit.record({ event: 'token.revoked', actor, subject: token.subject, clientId: token.clientId, reason, data: { jti: token.jti } }, trx);
      });
      await events.publish({
        type: 'tokens.revoked',
        subject: token.subject,
        tokenIds: [token.jti],
        // Only this token: nothing is denied by issue time.
        issuedBefore: 0,
        until: token.expiresAt,
        reason,
      });
    },

    async recordIssued(token) {
      await db
        .insertInto('issued_tokens')
        .values({ jti: token.jti, grant_id: token.grantId, subject: token.subject, session_id: token.sessionId, client_id: token.clientId, expires_at: token.expiresAt, revoked_at: null, issued_at: epochSeconds(clock), ...(token.apiTokenId ? { api_token_id: token.apiTokenId } : {}) })
        .execute();
    },

    async endSessions(userId, which, reason, actor) {
      return store.transaction((trx) => endSessionsIn(trx, { userId, which, reason, actor, now: epochSeconds(clock), audit, events }));
    },

    async issuedToken(jti) {
      const row = await db.selectFrom('issued_tokens').selectAll().where('jti', '=', jti).executeTakeFirst();
      if (!row) return undefined;
      return { jti: row.jti, grantId: row.grant_id, subject: row.subject, sessionId: row.session_id, clientId: row.client_id, expiresAt: Number(row.expires_at), revokedAt: row.revoked_at === null ? null : Number(row.revoked_at) };
    },
  };
}
