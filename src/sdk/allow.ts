/**
 * Who may call which routes of an mTLS server, compiled once into a map by SPIFFE ID.
 * `paths` entries: an exact path (`/books`), a prefix (`/books/*` — anything below /books/), or
 * `*` (everything). `methods` omitted means any method. A decision is a value with a reason.
 */
export interface AllowRule {
  /** A SPIFFE ID, or `*` for any authenticated workload of our trust domain. */
  spiffeId: string;
  methods?: string[];
  paths?: string[];
}

export type Decision = { allow: true } | { allow: false; reason: string };

type PathMatcher = (path: string) => boolean;

interface CompiledRule {
  methods: ReadonlySet<string> | undefined;
  paths: PathMatcher[];
  source: string;
}

function compilePath(pattern: string): PathMatcher {
  if (pattern === '*') return () => true;
  if (!pattern.startsWith('/')) throw new TypeError(`expected a path like /books or /books/*, received ${JSON.stringify(pattern)}`);
  if (pattern.endsWith('/*')) {
    const prefix = pattern.slice(0, -1);
    return (path) => path.startsWith(prefix) && path.length > prefix.length;
  }
  if (pattern.includes('*')) throw new TypeError(`a * may only end a path pattern (/books/*), received ${JSON.stringify(pattern)}`);
  return (path) => path === pattern;
}

/** Paths a router might resolve differently from a plain string comparison are refused. */
function ambiguous(path: string): boolean {
  return /(^|\/)\.{1,2}(\/|$)|%2e|%2f|%5c|\\|\/\//i.test(path);
}

export function compileAllow(rules: AllowRule[]): (spiffeId: string, method: string, rawPath: string) => Decision {
  const bySpiffeId = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    if (rule.spiffeId !== '*' && !rule.spiffeId.startsWith('spiffe://')) throw new TypeError(`expected a SPIFFE ID or *, received ${JSON.stringify(rule.spiffeId)}`);
    const compiled: CompiledRule = {
      methods: rule.methods ? new Set(rule.methods.map((m) => m.toUpperCase())) : undefined,
      paths: (rule.paths ?? ['*']).map(compilePath),
      source: `${rule.spiffeId} ${rule.methods?.join(',') ?? '*'} ${(rule.paths ?? ['*']).join(',')}`,
    };
    const list = bySpiffeId.get(rule.spiffeId) ?? [];
    list.push(compiled);
    bySpiffeId.set(rule.spiffeId, list);
  }
  return (spiffeId, method, rawPath) => {
    const path = rawPath.split('?')[0] ?? '';
    if (ambiguous(path)) return { allow: false, reason: `path ${JSON.stringify(path)} is not normalized` };
    const candidates = [...(bySpiffeId.get(spiffeId) ?? []), ...(bySpiffeId.get('*') ?? [])];
    if (candidates.length === 0) return { allow: false, reason: `no allow rule for ${spiffeId}` };
    for (const rule of candidates) {
      if (rule.methods && !rule.methods.has(method.toUpperCase())) continue;
      if (rule.paths.some((match) => match(path))) return { allow: true };
    }
    return { allow: false, reason: `no allow rule for ${spiffeId} matches ${method} ${path}` };
  };
}
