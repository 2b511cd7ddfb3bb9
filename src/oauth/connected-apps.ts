/**
 * Connected apps: the third-party applications a user has granted access (oidc-provider Grant
 * rows in `oidc_models`, keyed by the user's id), listed for the account page and disconnected
 * from it. Disconnecting revokes at once: the grants with their codes and refresh tokens are
 * deleted, and the app's outstanding JWT access tokens are named in a `tokens.revoked` event, so
 * gateways and services deny them within a second. First-party clients are not "connected": the
 * user never consented to them.
 */
import type { Executor, Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { parseScope } from '../shared/scope.ts';
import type { Revoker } from './revocation.ts';

export interface ConnectedApp {
  clientId: string;
  clientName: string;
  /** Everything the user granted the app (OpenID and API scopes). */
  scopes: string[];
  /** When the user first granted it (epoch seconds). */
  grantedAt: number;
}

export interface ConnectedApps {
  /** The user's third-party apps, oldest grant first. */
  list(userId: string): Promise<ConnectedApp[]>;
  /** Revokes every grant and token of the app for the user; false if it was not connected. */
  disconnect(userId: string, clientId: string, actor: string): Promise<boolean>;
  /** The user's newest live grant to a third-party client: consent given once is remembered across sign-ins. */
  rememberedGrant(userId: string, clientId: string): Promise<string | undefined>;
}

interface GrantPayload {
  clientId?: unknown;
  iat?: unknown;
  openid?: { scope?: unknown };
  resources?: Record<string, unknown>;
}

interface UserGrant {
  id: string;
  clientId: string;
  iat: number;
  scopes: string[];
}

function scopesOf(payload: GrantPayload): string[] {
  const all = [payload.openid?.scope, ...Object.values(payload.resources ?? {})].flatMap((scope) => (typeof scope === 'string' ? parseScope(scope) : []));
  return [...new Set(all)];
}

/** The user's live grants of third-party clients, with each client's name. */
async function thirdPartyGrants(db: Executor, userId: string, now: number): Promise<Array<UserGrant & { clientName: string }>> {
  const rows = await db
    .selectFrom('oidc_models')
    .select(['id', 'payload', 'expires_at'])
    .where('model', '=', 'Grant')
    .where('account_id', '=', userId)
    .execute();
  const grants: UserGrant[] = [];
  for (const row of rows) {
    if (row.expires_at !== null && Number(row.expires_at) <= now) continue;
    const payload = JSON.parse(row.payload) as GrantPayload;
    if (typeof payload.clientId !== 'string') continue;
    grants.push({ id: row.id, clientId: payload.clientId, iat: typeof payload.iat === 'number' ? payload.iat : now, scopes: scopesOf(payload) });
  }
  const clientIds = [...new Set(grants.map((g) => g.clientId))];
  if (clientIds.length === 0) return [];
  const clients = await db.selectFrom('clients').select(['client_id', 'name']).where('client_id', 'in', clientIds).where('first_party', '=', 0).execute();
  const names = new Map(clients.map((c) => [c.client_id, c.name]));
  return grants.filter((g) => names.has(g.clientId)).map((g) => ({ ...g, clientName: names.get(g.clientId)! }));
}

/** Grant ids of the user's third-party apps (a logout keeps them: see revocation.ts). */
export async function thirdPartyGrantIds(db: Executor, userId: string, now: number): Promise<string[]> {
  return (await thirdPartyGrants(db, userId, now)).map((g) => g.id);
}

export function createConnectedApps(deps: { store: Store; revoker: Pick<Revoker, 'revokeUserClient'>; audit: AuditLog; clock: Clock }): ConnectedApps {
  const { store, revoker, audit, clock } = deps;
  const now = () => epochSeconds(clock);

  return {
    async list(userId) {
      const byClient = new Map<string, ConnectedApp>();
      for (const grant of await thirdPartyGrants(store.db, userId, now())) {
        const app = byClient.get(grant.clientId);
        if (!app) {
          byClient.set(grant.clientId, { clientId: grant.clientId, clientName: grant.clientName, scopes: [...grant.scopes], grantedAt: grant.iat });
          continue;
        }
        app.scopes = [...new Set([...app.scopes, ...grant.scopes])];
        app.grantedAt = Math.min(app.grantedAt, grant.iat);
      }
      return [...byClient.values()].sort((a, b) => a.grantedAt - b.grantedAt || a.clientId.localeCompare(b.clientId));
    },

    async disconnect(userId, clientId, actor) {
      return store.transaction(async (trx) => {
        const grantIds = (await thirdPartyGrants(trx, userId, now())).filter((g) => g.clientId === clientId).map((g) => g.id);
        if (grantIds.length === 0) return false;
        const revoked = await revoker.revokeUserClient(userId, clientId, grantIds, 'app_disconnected', trx);
        await audit.record({ event: 'consent.revoked', actor, subject: userId, clientId, reason: 'disconnected', data: revoked }, trx);
        return true;
      });
    },

    async rememberedGrant(userId, clientId) {
      const grants = (await thirdPartyGrants(store.db, userId, now())).filter((g) => g.clientId === clientId);
      return grants.sort((a, b) => b.iat - a.iat)[0]?.id;
    },
  };
}
