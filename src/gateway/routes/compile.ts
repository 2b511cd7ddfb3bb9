/**
 * Route rules → a RouteTable, once per load. Everything that needs more than one field or more
 * than one rule is checked here (the schema checked each field); every problem is collected so a
 * bad file is answered with all of its mistakes at once.
 */
import { ROUTE_METHODS } from '../../config/gateway-schema.ts';
import { compileCidrs } from '../../shared/client-address.ts';
import { buildMatcher } from './matcher.ts';
import { explainMatch } from './explain.ts';
import { claimedReservedPath, parsePattern, patternShape, type PatternSegment } from './pattern.ts';
import { RouteLoadError, type CompiledRoute, type RouteConfig, type RouteTable } from './types.ts';

export interface RouteInput {
  routes: Array<{ rule: RouteConfig; source: string }>;
  services: Record<string, string[]>;
  corsPolicies: readonly string[];
}

export interface PatternedRoute {
  route: CompiledRoute;
  pattern: readonly PatternSegment[];
}

const list = (values: Iterable<string>) => [...values].join(', ') || '(none)';

export function compileRoutes(input: RouteInput): RouteTable {
  const problems: string[] = [];
  const services = new Set(Object.keys(input.services));
  const corsPolicies = new Set(input.corsPolicies);
  const compiled: PatternedRoute[] = [];

  input.routes.forEach(({ rule, source }, id) => {
    const problem = (key: string, message: string) => problems.push(`${source}.${key}: ${message}`);
    const { segments: pattern, problems: patternProblems } = parsePattern(rule.path);
    for (const message of patternProblems) problem('path', message);
    const reserved = claimedReservedPath(pattern);
    if (reserved !== undefined) problem('path', `${rule.path} claims ${reserved}, which the gateway serves itself`);
    if (!services.has(rule.service)) problem('service', `unknown service "${rule.service}" (services: ${list(services)})`);
    if (rule.cors !== undefined && !corsPolicies.has(rule.cors)) problem('cors', `unknown CORS policy "${rule.cors}" (gateway.cors: ${list(corsPolicies)})`);
    const owner = rule.owner?.slice('params.'.length);
    if (owner !== undefined && !pattern.some((s) => s.kind === 'param' && s.name === owner)) problem('owner', `${rule.owner} names no :${owner} in ${rule.path}`);
    if (rule.auth !== 'authenticated') {
      const needs = (['permissions', 'roles', 'scopes'] as const).filter((key) => rule[key].length > 0);
      if (owner !== undefined) needs.push('owner' as never);
      if (needs.length > 0) problem('auth', `auth: ${rule.auth} cannot be combined with ${needs.join(', ')} (there is no verified caller to check them against)`);
    }
    if (rule.allowFrom !== undefined && rule.allowFrom.length === 0) problem('allowFrom', 'an empty list admits no client; remove the key or list CIDR blocks');
    const anyMethod = rule.methods.includes('*');
    compiled.push({
      pattern,
      route: Object.freeze({
        id,
        source,
        pattern: rule.path,
        methods: Object.freeze(anyMethod ? [...ROUTE_METHODS] : [...new Set(rule.methods as string[])]),
        anyMethod,
        service: rule.service,
        auth: rule.auth,
        permissions: Object.freeze([...rule.permissions]),
        roles: Object.freeze([...rule.roles]),
        scopes: Object.freeze([...rule.scopes]),
        owner,
        allowFrom: rule.allowFrom === undefined || rule.allowFrom.length === 0 ? undefined : compileCidrs(rule.allowFrom),
        rateLimit: rule.rateLimit === undefined ? undefined : Object.freeze({ ...rule.rateLimit }),
        timeout: rule.timeout,
        cors: rule.cors,
      }),
    });
  });
  problems.push(...overlaps(compiled));
  if (problems.length > 0) throw new RouteLoadError(problems);

  const match = buildMatcher(compiled);
  return {
    routes: Object.freeze(compiled.map((c) => c.route)),
    match,
    explain: (method, rawTarget, maxLength = 8192) => explainMatch(compiled, match, method, rawTarget, maxLength),
  };
}

/**
 * Two routes of one shape (parameter names ignored) that share a method cannot be ordered by
 * specificity: which one wins would depend on file order, so it is a load error.
 */
function overlaps(compiled: readonly PatternedRoute[]): string[] {
  const problems: string[] = [];
  const byShape = new Map<string, PatternedRoute[]>();
  for (const entry of compiled) {
    const shape = patternShape(entry.pattern);
    const same = byShape.get(shape) ?? [];
    for (const { route: other } of same) {
      const shared = sharedMethods(other, entry.route);
      if (shared.length === 0) continue;
      problems.push(`${entry.route.source}.path: ${entry.route.pattern} overlaps ${other.source} (${other.pattern}): same shape ${shape}, both take ${shared.join(', ')}; neither is more specific, so merge them or split their methods`);
    }
    same.push(entry);
    byShape.set(shape, same);
  }
  return problems;
}

/** Methods both routes take; `*` takes every method. An explicit HEAD route beside a GET route is no overlap. */
function sharedMethods(a: CompiledRoute, b: CompiledRoute): string[] {
  if (a.anyMethod) return b.anyMethod ? ['*'] : [...b.methods];
  if (b.anyMethod) return [...a.methods];
  return a.methods.filter((m) => b.methods.includes(m));
}
