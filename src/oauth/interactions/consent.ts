/** Turning a consent prompt into a grant, and describing it to the user. */
import type Provider from 'oidc-provider';
import type { InteractionResults } from 'oidc-provider';

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

interface MissingDetails {
  missingOIDCScope?: string[];
  missingOIDCClaims?: string[];
  missingResourceScopes?: Record<string, string[]>;
}

/** Grants what the prompt says is missing; returns the consent result for oidc-provider. */
export async function grantConsent(provider: Provider, details: Details): Promise<{ result: InteractionResults; scopes: string[] }> {
  const missing = details.prompt.details as MissingDetails;
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id);
  if (!accountId) throw new TypeError('consent before login');
  let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
  grant ??= new provider.Grant({ accountId, clientId });
  const scopes: string[] = [];
  if (missing.missingOIDCScope?.length) {
    grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    scopes.push(...missing.missingOIDCScope);
  }
  if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, resourceScopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, resourceScopes.join(' '));
    scopes.push(...resourceScopes);
  }
  const grantId = await grant.save();
  return { result: { consent: { grantId } }, scopes: [...new Set(scopes)] };
}

export interface PermissionLine {
  /** Plain words: what the application may do. */
  text: string;
  /** The scope it comes from, shown beside the words. */
  scope: string;
}

/** What the consent page lists: one line per scope asked for, in words when the scope has a description. */
export function describePermissions(details: Details, descriptions: ReadonlyMap<string, string>): PermissionLine[] {
  const missing = details.prompt.details as MissingDetails;
  let scopes = [...(missing.missingOIDCScope ?? []), ...Object.values(missing.missingResourceScopes ?? {}).flat()];
  // Asked again (prompt=consent) for what was granted before: show everything it asks for.
  if (scopes.length === 0) scopes = String(details.params.scope ?? '').split(' ').filter((scope) => scope !== '');
  const lines = [...new Set(scopes)].map((scope) => ({ scope, text: descriptions.get(scope) ?? `Use the permission “${scope}”` }));
  if (lines.length === 0) lines.push({ scope: 'openid', text: 'Confirm your identity' });
  return lines;
}
