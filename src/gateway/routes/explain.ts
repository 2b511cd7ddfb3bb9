/**
 * `gatehouse routes explain GET /api/orders/42`: which rule a request meets and why, in words —
 * the normalized target (or why it is refused), the winning rule with its source, its params and
 * requirements, and every other rule whose pattern matched with the reason it lost.
 */
import { normalizeTarget } from '../request-target.ts';
import { excludedFromAny, type Matcher } from './matcher.ts';
import { describeSegment, patternMatches, precedenceSplit, RESERVED_PATHS, type PatternSegment } from './pattern.ts';
import type { CompiledRoute } from './types.ts';

interface PatternedRoute {
  route: CompiledRoute;
  pattern: readonly PatternSegment[];
}

const quote = (value: string) => JSON.stringify(value);
const label = (route: CompiledRoute) => `${route.source} (${route.anyMethod ? '*' : route.methods.join(',')} ${route.pattern})`;

/** Whether the route takes the method at all (HEAD rides on GET). */
function takes(route: CompiledRoute, method: string): boolean {
  if (route.anyMethod) return !excludedFromAny(method);
  return route.methods.includes(method) || (method === 'HEAD' && route.methods.includes('GET'));
}

export function describeRequirements(route: CompiledRoute, params: Readonly<Record<string, string>>): string[] {
  const lines: string[] = [];
  if (route.auth === 'public') lines.push('anonymous callers pass; no token is forwarded');
  else if (route.auth === 'passthrough') lines.push('the gateway authenticates nothing; the Authorization header reaches the upstream unchanged');
  else lines.push('a verified access token (bearer or session cookie)');
  if (route.permissions.length > 0) lines.push(`every one of the permissions ${route.permissions.join(', ')}`);
  if (route.roles.length > 0) lines.push(`at least one of the roles ${route.roles.join(', ')}`);
  if (route.scopes.length > 0) lines.push(`every one of the scopes ${route.scopes.join(', ')} in the token`);
  if (route.owner !== undefined) {
    const value = params[route.owner];
    lines.push(`:${route.owner}${value === undefined ? '' : ` (${quote(value)})`} equals the caller's sub, unless the caller holds the permissions unconditionally`);
  }
  if (route.allowFrom !== undefined) lines.push(`a client address in ${route.allowFrom.cidrs.join(', ')}`);
  if (route.rateLimit !== undefined) lines.push(`at most ${route.rateLimit.requests} requests per ${route.rateLimit.per}s per caller and per client IP`);
  return lines;
}

export function explainMatch(routes: readonly PatternedRoute[], match: Matcher, method: string, rawTarget: string, maxLength: number): string[] {
  const lines = [`request: ${method} ${rawTarget}`];
  const target = normalizeTarget(rawTarget, maxLength);
  if (!target.ok) {
    lines.push(`refused: ${target.status} — ${target.reason} (no route is consulted)`);
    return lines;
  }
  lines.push(`target: ${target.path}${target.query}${target.path === rawTarget.slice(0, rawTarget.length - target.query.length) ? '' : ' (normalized)'}`);
  lines.push(`segments: ${target.segments.length === 0 ? '(none)' : target.segments.map(quote).join(' ')}`);
  if (RESERVED_PATHS.includes(target.path)) {
    lines.push(`reserved: ${target.path} is served by the gateway itself; routes are not consulted`);
    return lines;
  }
  const result = match(method, target.segments);
  const candidates = routes.filter((r) => patternMatches(r.pattern, target.segments));
  let winner: PatternedRoute | undefined;
  if (result.kind === 'route') {
    winner = routes.find((r) => r.route === result.route)!;
    const { route } = result;
    lines.push(`match: ${label(route)} → service ${route.service}`);
    const params = Object.entries(result.params);
    if (params.length > 0) lines.push(`params: ${params.map(([name, value]) => `${name} = ${quote(value)}`).join(', ')}`);
    lines.push('requires:');
    for (const requirement of describeRequirements(route, result.params)) lines.push(`  - ${requirement}`);
    const extras = [route.timeout === undefined ? '' : `upstream timeout ${route.timeout}s`, route.cors === undefined ? '' : `CORS policy ${route.cors}`].filter(Boolean);
    if (extras.length > 0) lines.push(`also: ${extras.join(', ')}`);
  } else if (result.kind === 'method_not_allowed') {
    lines.push(`no route takes ${method} here: 405 Method Not Allowed, Allow: ${result.allow.join(', ')}`);
  } else {
    lines.push('no route matches: 404 Not Found (there is no implicit catch-all)');
  }
  const losers = candidates.filter((c) => c !== winner);
  if (losers.length > 0) {
    lines.push(winner === undefined ? 'patterns that match the path:' : 'other candidates:');
    for (const loser of losers) lines.push(`  - ${label(loser.route)}: ${whyNot(loser, winner, method, target.segments)}`);
  }
  return lines;
}

function whyNot(loser: PatternedRoute, winner: PatternedRoute | undefined, method: string, segments: readonly string[]): string {
  if (!takes(loser.route, method)) return `does not take ${method}`;
  if (winner === undefined) return 'takes the method'; // cannot happen: the matcher would have chosen it
  const split = precedenceSplit(winner.pattern, loser.pattern);
  if (split === -1) return `${method} goes to the rule of the same shape that names ${method}`;
  return `less specific at segment ${split + 1} (${quote(segments[split]!)}): ${describeSegment(winner.pattern[split]!)} beats ${describeSegment(loser.pattern[split]!)}`;
}
