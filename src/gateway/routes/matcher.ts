/**
 * The route matcher: a segment trie built once per table. Each node has literal children (a Map),
 * at most one `:param` child and at most one `**` leaf; a request walks it depth-first in that
 * order and the first leaf that takes the method wins, so the most specific full match wins and a
 * dead end backtracks. Every trie node sits at one depth, so a match visits each node at most
 * once. No regular expression and no allocation per request except the params object.
 */
import { ROUTE_METHODS } from '../../config/gateway-schema.ts';
import type { PatternSegment } from './pattern.ts';
import type { CompiledRoute, RouteMatch } from './types.ts';

interface Entry {
  route: CompiledRoute;
  paramNames: readonly string[];
  paramIndexes: readonly number[];
  match: RouteMatch | undefined; // shared answer for routes without params
}

/** The routes of one shape (`/api/orders/:`), by method. */
interface Leaf {
  methods: Map<string, Entry>;
  any: Entry | undefined;
  allow: readonly string[];
}

interface Node {
  literals: Map<string, Node> | undefined;
  param: Node | undefined;
  end: Leaf | undefined;
  rest: Leaf | undefined;
}

/** Methods `*` never covers: TRACE/TRACK echo credentials back (XST), CONNECT opens a tunnel. */
export function excludedFromAny(method: string): boolean {
  return method === 'TRACE' || method === 'TRACK' || method === 'CONNECT';
}

const NOT_FOUND: RouteMatch = Object.freeze({ kind: 'not_found' });
const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});
const METHOD_ORDER: readonly string[] = ROUTE_METHODS;

/** Known methods in their usual order, others after them alphabetically. */
export function sortMethods(methods: Iterable<string>): string[] {
  const rank = (m: string) => (METHOD_ORDER.includes(m) ? METHOD_ORDER.indexOf(m) : METHOD_ORDER.length);
  return [...new Set(methods)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

const newNode = (): Node => ({ literals: undefined, param: undefined, end: undefined, rest: undefined });

export type Matcher = (method: string, segments: readonly string[]) => RouteMatch;

/** `routes` must not overlap (compile.ts refuses that before building). */
export function buildMatcher(routes: ReadonlyArray<{ route: CompiledRoute; pattern: readonly PatternSegment[] }>): Matcher {
  const root = newNode();
  const leaves: Array<{ leaf: Leaf; routes: CompiledRoute[] }> = [];
  const leafFor = (node: Node, key: 'end' | 'rest'): Leaf => {
    let leaf = node[key];
    if (leaf === undefined) {
      leaf = node[key] = { methods: new Map(), any: undefined, allow: [] };
      leaves.push({ leaf, routes: [] });
    }
    return leaf;
  };
  for (const { route, pattern } of routes) {
    let node = root;
    const paramNames: string[] = [];
    const paramIndexes: number[] = [];
    let leaf: Leaf | undefined;
    pattern.forEach((segment, index) => {
      if (segment.kind === 'literal') {
        node.literals ??= new Map();
        let child = node.literals.get(segment.value);
        if (child === undefined) node.literals.set(segment.value, (child = newNode()));
        node = child;
      } else if (segment.kind === 'param') {
        paramNames.push(segment.name);
        paramIndexes.push(index);
        node = node.param ??= newNode();
      } else {
        leaf = leafFor(node, 'rest');
      }
    });
    leaf ??= leafFor(node, 'end');
    const entry: Entry = { route, paramNames, paramIndexes, match: paramNames.length === 0 ? Object.freeze({ kind: 'route', route, params: NO_PARAMS }) : undefined };
    if (route.anyMethod) leaf.any ??= entry;
    else for (const method of route.methods) if (!leaf.methods.has(method)) leaf.methods.set(method, entry);
    leaves.find((l) => l.leaf === leaf)!.routes.push(route);
  }
  for (const { leaf, routes: own } of leaves) {
    const get = leaf.methods.get('GET');
    // HEAD follows GET unless the shape has its own HEAD route.
    if (get !== undefined && !leaf.methods.has('HEAD') && leaf.any === undefined) leaf.methods.set('HEAD', get);
    const allow = own.flatMap((r) => r.methods);
    if (allow.includes('GET')) allow.push('HEAD');
    leaf.allow = Object.freeze(sortMethods(allow));
  }

  const lookup = (leaf: Leaf, method: string): Entry | undefined => {
    const entry = leaf.methods.get(method);
    if (entry !== undefined) return entry;
    return leaf.any !== undefined && !excludedFromAny(method) ? leaf.any : undefined;
  };

  const find = (node: Node, segments: readonly string[], i: number, method: string): Entry | undefined => {
    if (i === segments.length) return node.end === undefined ? undefined : lookup(node.end, method);
    if (node.literals !== undefined) {
      const child = node.literals.get(segments[i]!);
      if (child !== undefined) {
        const found = find(child, segments, i + 1, method);
        if (found !== undefined) return found;
      }
    }
    if (node.param !== undefined) {
      const found = find(node.param, segments, i + 1, method);
      if (found !== undefined) return found;
    }
    return node.rest === undefined ? undefined : lookup(node.rest, method);
  };

  /** Every leaf whose pattern matches the path (the 405 answer's Allow). */
  const collect = (node: Node, segments: readonly string[], i: number, into: Leaf[]): void => {
    if (i === segments.length) {
      if (node.end !== undefined) into.push(node.end);
      return;
    }
    const child = node.literals?.get(segments[i]!);
    if (child !== undefined) collect(child, segments, i + 1, into);
    if (node.param !== undefined) collect(node.param, segments, i + 1, into);
    if (node.rest !== undefined) into.push(node.rest);
  };

  return (method, segments) => {
    const entry = find(root, segments, 0, method);
    if (entry !== undefined) {
      if (entry.match !== undefined) return entry.match;
      const params: Record<string, string> = {};
      for (let k = 0; k < entry.paramNames.length; k++) params[entry.paramNames[k]!] = segments[entry.paramIndexes[k]!]!;
      return { kind: 'route', route: entry.route, params };
    }
    const matching: Leaf[] = [];
    collect(root, segments, 0, matching);
    if (matching.length === 0) return NOT_FOUND;
    return { kind: 'method_not_allowed', allow: matching.length === 1 ? matching[0]!.allow : sortMethods(matching.flatMap((leaf) => leaf.allow)) };
  };
}
