/**
 * Stage 10 — authorize the verified caller against the route: `roles` (any one), `scopes` (all;
 * 403 `insufficient_scope` with the scopes needed), `permissions` (all, under the published
 * roles → permissions policy, so `orders:*` covers `orders:create`) and `owner`. Decisions are
 * values (Identity.decide); the first refusal answers.
 *
 * Owner: with `owner: params.x` each permission is decided with `ownerId = params.x`, so a caller
 * holding only `orders:read:own` passes for its own resources and one holding `orders:read`
 * passes for all. A route with `owner` and no permissions admits only the owner.
 */
import { GatehouseError } from '../../shared/errors.ts';
import { bearerError } from '../../shared/bearer-challenge.ts';
import type { Exchange, GatewayState, Outcome } from '../exchange.ts';

export function authorize(exchange: Exchange, _state: GatewayState): Outcome {
  const route = exchange.route!;
  const caller = exchange.caller;
  if (caller === undefined) {
    // Only public and passthrough routes get here without a caller (they carry no requirements);
    // an authenticated route without one is a bug, and a bug denies.
    if (route.auth !== 'authenticated') return undefined;
    exchange.decision = 'no_token';
    return new GatehouseError('internal_error', undefined, { detail: 'authorize reached without a verified caller' });
  }
  if (route.roles.length > 0 && !route.roles.some((role) => caller.hasRole(role))) {
    exchange.decision = 'missing_role';
    return new GatehouseError('forbidden', 'The caller lacks a role this route requires', { detail: `needs one of roles ${route.roles.join(', ')}` });
  }
  for (const scope of route.scopes) {
    if (!caller.hasScope(scope)) {
      exchange.decision = 'missing_scope';
      return bearerError('insufficient_scope', 'The access token lacks a scope this route requires', undefined, route.scopes.join(' '));
    }
  }
  const ownerId = route.owner === undefined ? undefined : exchange.params[route.owner];
  for (const permission of route.permissions) {
    const decision = caller.decide(permission, ownerId === undefined ? undefined : { ownerId });
    if (!decision.allow) {
      exchange.decision = decision.reason === 'not_owner' ? 'not_owner' : 'not_granted';
      return new GatehouseError('forbidden', 'The caller is not allowed to do this', { detail: `${permission}: ${decision.reason}` });
    }
  }
  if (route.owner !== undefined && route.permissions.length === 0 && ownerId !== caller.subject) {
    exchange.decision = 'not_owner';
    return new GatehouseError('forbidden', 'The caller is not allowed to do this', { detail: `params.${route.owner} is not the caller` });
  }
  return undefined;
}
