export type * from './types.ts';
export { createAuditLog, auditEvents, type AuditLog, type AuditEntry, type AuditRecord, type AuditEvent } from './audit.ts';
export { createEventBus, type StreamingEventBus, type EventFeed, type EventBusDeps } from './bus.ts';
export { registerEventRoutes, EVENTS_SCOPE, type EventRoutesDeps } from './routes.ts';
export { EVENT_TYPE_URIS, SET_TYP, decodeSet, eventFromClaims } from '../shared/security-events.ts';
export { announcePolicyVersion } from './policy-announcement.ts';
