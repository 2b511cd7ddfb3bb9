/**
 * The one oidc-provider internal Gatehouse reaches: the per-instance registry that maps a grant
 * type to its (already bound) token-endpoint handler. oidc-provider has no public hook between
 * client authentication and the grant handler, which is where RFC 8628 polling-rate enforcement
 * belongs (./grant.ts). The package has no `exports` map, so the module resolves; the lockfile
 * pins the version, and ./grant.ts throws at start (and
 * test/oauth-device-flow.test.ts's slow_down test fails) if the shape changes.
 */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  export default function instance(provider: object): {
    grantTypeHandlers: Map<string, (ctx: unknown) => Promise<void>>;
  };
}
