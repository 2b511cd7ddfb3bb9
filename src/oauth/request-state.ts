/**
 * What happened inside one provider request, collected from oidc-provider's (synchronous) events
 * and hooks so that the outer middleware can audit and publish after the response is decided.
 */
export interface RequestState {
  /** JWT access tokens issued to users in this request. */
  issued: Array<{ jti: string; subject: string; sid: string | undefined; grantId: string | undefined }>;
  /** client_credentials tokens recorded in this request (those carrying admin rights). */
  issuedToClient: Array<{ jti: string; clientId: string; scope: string; roles: string[] }>;
  /** Grants oidc-provider revoked (code/refresh reuse, revocation endpoint, logout). */
  revokedGrants: string[];
  /** A code or refresh token consumed twice (sequentially or in parallel). */
  replay?: { model: string; grantId: string | undefined; accountId?: string | undefined };
  /** The user whose grant oidc-provider is about to revoke (read before the rows are gone). */
  revokedAccount?: string;
  /** The OAuth error of a refused authorization request (rendered at the server or redirected). */
  authorizationError?: string;
  /** The error behind a `server_error`, to tell a store outage (503) from a bug (500). */
  serverError?: unknown;
  /** Set by the token-exchange grant: the personal API token the access token is issued for. */
  exchange?: { apiTokenId: string };
  /** Set when RP-initiated logout ended a session. */
  logout?: { accountId: string; sid: string | undefined; clientId: string | undefined };
}

interface HasState {
  state: Record<string, unknown>;
}

const KEY = 'gatehouse';

export function requestState(ctx: unknown): RequestState {
  const holder = ctx as HasState;
  let state = holder.state[KEY] as RequestState | undefined;
  if (!state) {
    state = { issued: [], issuedToClient: [], revokedGrants: [] };
    holder.state[KEY] = state;
  }
  return state;
}
