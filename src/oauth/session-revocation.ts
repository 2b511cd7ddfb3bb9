/**
 * Ending sign-in sessions from the account page (one, or all of a user's): the session row goes,
 * and with it the grants of the first-party clients signed in through it (the gateway's browser
 * session among them), their refresh tokens and codes; their outstanding JWT access tokens are
 * marked revoked and one `tokens.revoked` per session id (`sid`) tells gateways to deny them.
 *
 * Grants of third-party applications stay: those are the user's connected apps, which outlive a
 * browser session and are disconnected on their own (oidc-provider keeps offline grants past a
 * logout for the same reason).
 */
import type { StoreTransaction } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { EventBus } from '../events/types.ts';
import { deleteGrant } from './adapter.ts';
import { denial, markRevoked, type RevokedToken } from './revocation.ts';
import { selectSessions } from './session-rows.ts';

export interface EndSessions {
  userId: string;
  /** Session uids, or every session of the user. */
  which: readonly string[] | 'all';
  reason: string;
  actor: string;
  now: number;
  audit: AuditLog;
  events: Pick<EventBus, 'publish'>;
}

export async function endSessionsIn(trx: StoreTransaction, input: EndSessions): Promise<number> {
  const { userId, now } = input;
  const sessions = await selectSessions(trx, userId, now, input.which === 'all' ? undefined : input.which);
  if (sessions.length === 0) return 0;
  const clientIds = [...new Set(sessions.flatMap((s) => s.authorizations.map((a) => a.clientId)))];
  const thirdParty = new Set(
    (await trx.selectFrom('clients').select(['client_id', 'first_party']).where('client_id', 'in', clientIds).execute())
      .filter((c) => !Number(c.first_party))
      .map((c) => c.client_id),
  );
  for (const session of sessions) {
    const ended = session.authorizations.filter((a) => !thirdParty.has(a.clientId));
    const grantIds = [...new Set(ended.map((a) => a.grantId).filter((g): g is string => g !== undefined))];
    await trx.deleteFrom('oidc_models').where('model', '=', 'Session').where('id', '=', session.rowId).execute();
    for (const grantId of grantIds) await deleteGrant(trx, grantId);
    const tokens = grantIds.length === 0 ? [] : await markRevoked(trx, now, { subject: userId, grantIds });
    await input.audit.record({ event: 'session.ended', actor: input.actor, subject: userId, reason: input.reason, data: { session: session.uid, grants: grantIds.length, accessTokens: tokens.length } }, trx);
    // One event per sid: gateways deny that sid's tokens issued until now, listed or not.
    const sids = new Set(ended.map((a) => a.sid).filter((s): s is string => s !== undefined));
    for (const token of tokens) if (token.sid !== null) sids.add(token.sid);
    for (const sid of sids) {
      const ofSid: RevokedToken[] = tokens.filter((t) => t.sid === sid);
      await input.events.publish({ type: 'tokens.revoked', subject: userId, ...denial(ofSid, now, { sessionId: sid, issuedBefore: now }), reason: input.reason }, { trx });
    }
  }
  return sessions.length;
}
