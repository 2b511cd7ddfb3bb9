/**
 * The role → permissions policy the Security Service publishes at `GET /policy`, fetched with
 * `If-None-Match` (an unchanged policy costs a 304) and compiled with the same code the server
 * uses, so a permission means the same thing at the gateway, in a service and at the source.
 */
import { compilePolicy, type CompiledPolicy } from '../../policy/compile.ts';
import { getJson, under } from './internal-fetch.ts';

export interface PolicyClient {
  current(): CompiledPolicy | undefined;
  /** Fetch now (single flight). Resolves true when the policy changed. */
  refresh(): Promise<boolean>;
  pending(): Promise<boolean> | undefined;
  /** Loaded, and the last fetch did not fail. */
  healthy(): boolean;
}

function isRoles(value: unknown): value is Record<string, string[]> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.values(value).every((permissions) => Array.isArray(permissions) && permissions.every((p) => typeof p === 'string'));
}

export function createPolicyClient(options: { issuer: string; fetch: typeof fetch }): PolicyClient {
  const url = under(options.issuer, 'policy');
  let policy: CompiledPolicy | undefined;
  let etag: string | undefined;
  let healthy = false;
  let inFlight: Promise<boolean> | undefined;

  async function load(): Promise<boolean> {
    try {
      const response = await getJson(options.fetch, url, policy && etag ? { 'if-none-match': etag } : {});
      healthy = true;
      if (response.status === 304) return false;
      const roles = (response.body as { roles?: unknown } | null)?.roles;
      if (!isRoles(roles)) throw new Error('GET /policy did not return a policy document');
      const next = compilePolicy(roles);
      etag = response.headers.get('etag') ?? undefined;
      const changed = next.version !== policy?.version;
      policy = next;
      return changed;
    } catch (error) {
      healthy = false;
      throw error;
    }
  }

  return {
    current: () => policy,
    refresh() {
      inFlight ??= load().finally(() => { inFlight = undefined; });
      return inFlight;
    },
    pending: () => inFlight,
    healthy: () => healthy && policy !== undefined,
  };
}
