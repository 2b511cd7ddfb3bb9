/**
 * Personal API tokens: create, list, revoke (by the owner, an administrator, or anyone holding a
 * leaked token) and the lookup behind the token-exchange grant. The owner and their permissions
 * come in as functions (identity and policy are not imported by tokens; src/service.ts wires them).
 */
import { z } from 'zod';
import type { Config } from '../../config/index.ts';
import type { Store } from '../../store/index.ts';
import type { AuditLog } from '../../events/audit.ts';
import { epochSeconds, type Clock } from '../../shared/clock.ts';
import { fail } from '../../shared/errors.ts';
import { isUniqueViolation } from '../../store/index.ts';
import { constantTimeEqual } from '../../shared/random.ts';
import { parseInput, validationFailed } from '../../shared/validation.ts';
import { generateApiToken, generateTokenId, tokenDigest, tokenShapeProblem } from './format.ts';
import { SCOPE_PATTERN, scopesNotHeld } from './scopes.ts';
import { findByDigest, findById, insertToken, liveTokensOf, retireExpiredNamed, markTokenRevoked, markTokenUsed, summaryOf } from './repository.ts';
import type { ApiTokenDeps, ApiTokenService, ExchangeLookup } from './types.ts';

/** Shortest lifetime a token may be made with: anything shorter is a mistake, not a token. */
export const MIN_TTL = 60;
const MAX_SCOPES = 32;

function inputSchema(maxTtl: number) {
  return z
    .object({
      userId: z.string().min(1).max(200),
      name: z.string().trim().min(1).max(100),
      scopes: z
        .array(z.string().regex(SCOPE_PATTERN, 'a permission name like orders:read, orders:read:own or orders:*'))
        .min(1)
        .max(MAX_SCOPES),
      expiresIn: z.number().int().min(MIN_TTL).max(maxTtl, `at most apiTokens.maxTtl (${maxTtl} s)`),
    })
    .strict();
}

export function createApiTokenService(deps: ApiTokenDeps & { store: Store; audit: AuditLog; clock: Clock; config: Pick<Config, 'apiTokens'> }): ApiTokenService {
  const { store, audit, clock } = deps;
  const schema = inputSchema(deps.config.apiTokens.maxTtl);

  async function revokeRow(id: string, userId: string, actor: string, reason: string, ip?: string): Promise<boolean> {
    const now = epochSeconds(clock);
    return store.transaction(async (trx) => {
      if (!(await markTokenRevoked(trx, id, now))) return false;
      const jwts = await deps.revokeExchanged(id, userId, trx);
      await audit.record({ event: 'api_token.revoked', actor, subject: userId, ip: ip ?? null, reason, data: { apiTokenId: id, accessTokens: jwts } }, trx);
      return true;
    });
  }

  /** The token row if it belongs to `userId` (when given) and is live. */
  async function liveRow(id: string, userId?: string) {
    const row = await findById(store.db, id);
    if (!row || (userId !== undefined && row.user_id !== userId)) return undefined;
    if (row.revoked_at !== null || Number(row.expires_at) <= epochSeconds(clock)) return undefined;
    return row;
  }

  async function refuse(result: Extract<ExchangeLookup, { ok: false }>, context: { ip?: string; clientId?: string }): Promise<ExchangeLookup> {
    await audit.record({
      event: 'api_token.refused',
      actor: context.clientId ? `client:${context.clientId}` : context.ip ? `ip:${context.ip}` : null,
      subject: result.userId ?? null,
      clientId: context.clientId ?? null,
      ip: context.ip ?? null,
      reason: result.reason,
      data: result.tokenId ? { apiTokenId: result.tokenId } : {},
    });
    return result;
  }

  return {
    async create(raw, actor) {
      const input = parseInput(schema, raw, 'The API token is invalid');
      const owner = await deps.findUser(input.userId);
      if (!owner) throw fail.notFound(`user ${input.userId}`);
      if (owner.status !== 'active') throw validationFailed([{ path: 'userId', message: 'the user is disabled' }], 'The API token is invalid');
      const scopes = [...new Set(input.scopes)];
      const notHeld = scopesNotHeld(scopes, deps.permissionsFor(owner.roles).list);
      if (notHeld.length > 0) {
        throw validationFailed([{ path: 'scopes', message: `${notHeld.join(', ')} ${notHeld.length === 1 ? 'covers' : 'cover'} none of the user's permissions` }], 'The API token is invalid');
      }
      const now = epochSeconds(clock);
      const token = generateApiToken();
      const row = {
        id: generateTokenId(),
        user_id: owner.id,
        name: input.name,
        scopes: JSON.stringify(scopes),
        digest: tokenDigest(token),
        created_at: now,
        expires_at: now + input.expiresIn,
        revoked_at: null,
        last_used_at: null,
        last_used_address: null,
      };
      const taken = () => fail.conflict(`the user already has a live API token named ${JSON.stringify(input.name)}`);
      try {
        await store.transaction(async (trx) => {
          // Names tell a user's live tokens apart (a revoked or expired one frees its name): an
          // expired one is retired first, and the unique index (user, name) over unrevoked tokens
          // refuses the loser of two creations racing with one name.
          await retireExpiredNamed(trx, owner.id, input.name, now);
          if ((await liveTokensOf(trx, owner.id, now)).some((t) => t.name === input.name)) throw taken();
          await insertToken(trx, row);
          await audit.record({ event: 'api_token.created', actor, subject: owner.id, data: { apiTokenId: row.id, name: row.name, scopes, expiresAt: row.expires_at } }, trx);
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw taken();
        throw error;
      }
      return { token, summary: summaryOf(row) };
    },

    async list(userId) {
      return (await liveTokensOf(store.db, userId, epochSeconds(clock))).map(summaryOf);
    },

    async revoke(userId, id, actor) {
      const row = await liveRow(id, userId);
      return row !== undefined && revokeRow(row.id, row.user_id, actor, actor === `user:${userId}` ? 'revoked_by_owner' : 'revoked_by_admin');
    },

    async revokeById(id, actor) {
      const row = await liveRow(id);
      return row !== undefined && revokeRow(row.id, row.user_id, actor, 'revoked_by_admin');
    },

    async revokeLeaked(token, context) {
      // Same work for a malformed, unknown or live token up to the lookup; the caller answers alike.
      if (tokenShapeProblem(token) !== undefined) return false;
      const row = await findByDigest(store.db, tokenDigest(token));
      if (!row || row.revoked_at !== null || Number(row.expires_at) <= epochSeconds(clock)) return false;
      return revokeRow(row.id, row.user_id, context.ip ? `ip:${context.ip}` : 'anonymous', 'leaked', context.ip);
    },

    async lookupForExchange(token, context) {
      const shape = tokenShapeProblem(token);
      if (shape !== undefined) return refuse({ ok: false, reason: shape }, context);
      const digest = tokenDigest(token);
      const row = await findByDigest(store.db, digest);
      // The row was found by its digest; the constant-time comparison guards against a lookup
      // that ever matched loosely (collation, prefix) rather than against timing.
      if (!row || !constantTimeEqual(row.digest, digest)) return refuse({ ok: false, reason: 'unknown' }, context);
      const known = { tokenId: row.id, userId: row.user_id };
      // Expiry first: an expired token whose name was reused is retired (revoked_at set) yet still "expired".
      if (Number(row.expires_at) <= epochSeconds(clock)) return refuse({ ok: false, reason: 'expired', ...known }, context);
      if (row.revoked_at !== null) return refuse({ ok: false, reason: 'revoked', ...known }, context);
      const owner = await deps.findUser(row.user_id);
      if (!owner || owner.status !== 'active') return refuse({ ok: false, reason: 'owner_disabled', ...known }, context);
      return { ok: true, tokenId: row.id, owner, scopes: JSON.parse(row.scopes) as string[], expiresAt: Number(row.expires_at) };
    },

    async markUsed(id, address) {
      return markTokenUsed(store.db, id, epochSeconds(clock), address);
    },
  };
}
