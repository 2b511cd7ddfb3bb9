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
  return { result: { consent: { grantId } }, scopes };
}

const DESCRIPTIONS: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'See your username',
  email: 'See your email address',
  roles: 'See your roles',
  offline_access: 'Keep access while you are not using it',
};

/** What the consent page lists: one line per scope asked for. */
export function describePermissions(details: Details): string[] {
  const missing = details.prompt.details as MissingDetails;
  const lines: string[] = [];
  for (const scope of missing.missingOIDCScope ?? []) lines.push(DESCRIPTIONS[scope] ?? scope);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    for (const scope of scopes) lines.push(`${scope} at ${indicator}`);
  }
  if (lines.length === 0) lines.push('Confirm your identity');
  return lines;
}
