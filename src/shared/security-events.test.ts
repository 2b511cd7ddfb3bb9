import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventFromClaims, eventClaims, type SecurityEvent } from './security-events.ts';

test('ok: every event type survives the SET claims round trip', () => {
  const events: SecurityEvent[] = [
    { type: 'tokens.revoked', subject: 'u', sessionId: 's', tokenIds: ['j'], issuedBefore: 5, until: 9, reason: 'logout' },
    { type: 'tokens.revoked', subject: 'u', tokenIds: [], issuedBefore: 5, until: 9, reason: 'user_disabled' },
    { type: 'certificate.revoked', serials: ['0a'], service: 'orders', until: 9, reason: 'keyCompromise' },
    { type: 'keys.rotated', activeKid: 'k' },
    { type: 'policy.changed', version: 'v1' },
  ];
  for (const event of events) assert.deepEqual(eventFromClaims(eventClaims(event, 'https://iss', 1)), event);
  assert.equal(eventFromClaims({ events: { 'urn:example:unknown': {} } }), null, 'unknown types are ignored');
});
