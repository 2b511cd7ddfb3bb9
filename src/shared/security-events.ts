/**
 * The vocabulary of security events (Security Event Tokens, RFC 8417) that the Security Service
 * publishes and its consumers (the gateway, the SDK) read: the event types, their event-type URIs
 * and the SET claims ⇄ event mapping. Pure: imports nothing but jose's decoder, so both the
 * server's events component and the SDK import it. docs/events.md documents the URIs and members.
 */
import { decodeJwt } from 'jose';

/** Everything a gateway or service needs to deny a user's still-unexpired JWTs. */
export interface TokensRevoked {
  type: 'tokens.revoked';
  /** `sub` of the affected tokens. */
  subject: string;
  /** Set when one session (sid) is affected rather than every session of the subject. */
  sessionId?: string | undefined;
  /** `jti` of access tokens known to be outstanding. */
  tokenIds: string[];
  /** Deny tokens of this subject (and session, if set) issued at or before this time (epoch s). */
  issuedBefore: number;
  /** After this time (epoch s) every affected token has expired: the deny entry can be dropped. */
  until: number;
  /**
   * Why: `logout`, `user_disabled`, `password_changed`, `grant_revoked`, `refresh_token_reused`,
   * `code_reused`, `revoked_by_client`, `client_removed`, `client_narrowed`, `api_token_revoked` (docs/events.md).
   */
  reason: string;
}

export interface CertificateRevoked {
  type: 'certificate.revoked';
  /** Serial numbers (lower-case hex, no leading zeros). */
  serials: string[];
  service: string;
  /** Latest notAfter among the revoked certificates (epoch s). */
  until: number;
  reason: string;
}

export interface KeysRotated {
  type: 'keys.rotated';
  /** The kid that signs from now on. */
  activeKid: string;
}

export interface PolicyChanged {
  type: 'policy.changed';
  version: string;
}

export type SecurityEvent = TokensRevoked | CertificateRevoked | KeysRotated | PolicyChanged;
export type SecurityEventType = SecurityEvent['type'];

export interface PublishedEvent {
  /** Position in the stream; subscribers resume after the last one they saw. */
  seq: number;
  /** `jti` of the SET. */
  id: string;
  event: SecurityEvent;
  /** The signed SET (compact JWS, `typ: secevent+jwt`). */
  set: string;
  /** Epoch seconds. */
  issuedAt: number;
}

/** CAEP "session revoked" carries token revocations; our other events use URNs of our own. */
export const EVENT_TYPE_URIS: Record<SecurityEventType, string> = {
  'tokens.revoked': 'https://schemas.openid.net/secevent/caep/event-type/session-revoked',
  'certificate.revoked': 'urn:gatehouse:secevent:certificate.revoked',
  'keys.rotated': 'urn:gatehouse:secevent:keys.rotated',
  'policy.changed': 'urn:gatehouse:secevent:policy.changed',
};

export const SET_TYP = 'secevent+jwt';

const TYPE_BY_URI = new Map(Object.entries(EVENT_TYPE_URIS).map(([type, uri]) => [uri, type as SecurityEventType]));

/** The claims of the SET for `event` (iss, iat and jti are added by the caller). */
export function eventClaims(event: SecurityEvent, issuer: string, issuedAt: number): Record<string, unknown> {
  const uri = EVENT_TYPE_URIS[event.type];
  switch (event.type) {
    case 'tokens.revoked':
      return {
        sub_id: { format: 'iss_sub', iss: issuer, sub: event.subject },
        events: {
          [uri]: {
            event_timestamp: issuedAt,
            reason_admin: { en: event.reason },
            subject: event.subject,
            ...(event.sessionId === undefined ? {} : { session_id: event.sessionId }),
            token_ids: event.tokenIds,
            issued_before: event.issuedBefore,
            until: event.until,
            reason: event.reason,
          },
        },
      };
    case 'certificate.revoked':
      return { events: { [uri]: { serials: event.serials, service: event.service, until: event.until, reason: event.reason } } };
    case 'keys.rotated':
      return { events: { [uri]: { active_kid: event.activeKid } } };
    case 'policy.changed':
      return { events: { [uri]: { version: event.version } } };
  }
}

/** The subject a stored event is indexed by (null when none is meaningful). */
export function eventSubject(event: SecurityEvent): string | null {
  if (event.type === 'tokens.revoked') return event.subject;
  if (event.type === 'certificate.revoked') return event.service;
  return null;
}

const str = (value: unknown): string => (typeof value === 'string' ? value : '');
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);
const strs = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** Reads our event back out of SET claims; null for an event type this version does not know. */
export function eventFromClaims(claims: Record<string, unknown>): SecurityEvent | null {
  const events = claims.events;
  if (typeof events !== 'object' || events === null) return null;
  for (const [uri, body] of Object.entries(events as Record<string, Record<string, unknown>>)) {
    const type = TYPE_BY_URI.get(uri);
    if (!type || typeof body !== 'object' || body === null) continue;
    switch (type) {
      case 'tokens.revoked':
        return {
          type,
          subject: str(body.subject),
          ...(typeof body.session_id === 'string' ? { sessionId: body.session_id } : {}),
          tokenIds: strs(body.token_ids),
          issuedBefore: num(body.issued_before),
          until: num(body.until),
          reason: str(body.reason),
        };
      case 'certificate.revoked':
        return { type, serials: strs(body.serials), service: str(body.service), until: num(body.until), reason: str(body.reason) };
      case 'keys.rotated':
        return { type, activeKid: str(body.active_kid) };
      case 'policy.changed':
        return { type, version: str(body.version) };
    }
  }
  return null;
}

/** Decodes (does not verify) a SET into a published event; null for unknown event types. */
export function decodeSet(set: string, seq: number): PublishedEvent | null {
  const claims = decodeJwt(set) as Record<string, unknown>;
  const event = eventFromClaims(claims);
  if (!event) return null;
  return { seq, id: str(claims.jti), event, set, issuedAt: num(claims.iat) };
}
