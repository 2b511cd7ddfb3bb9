/**
 * Our client secret at each provider: env GATEHOUSE_IDP_<ID>_CLIENT_SECRET (id upper-cased, "-"
 * as "_"), else the provider's `clientSecretFile` (0600; relative to gatehouse.yaml), else none
 * (a public client: PKCE only). Read once at start; a file that cannot be read stops the start.
 */
import { dirname, resolve } from 'node:path';
import { readSecretFile, type IdentityProviderConfig } from '../../config/index.ts';

export const secretVariable = (providerId: string) => `GATEHOUSE_IDP_${providerId.toUpperCase().replace(/-/g, '_')}_CLIENT_SECRET`;

export function clientSecretOf(provider: IdentityProviderConfig, env: NodeJS.ProcessEnv, configSource: string | undefined): string | undefined {
  const fromEnv = env[secretVariable(provider.id)];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (provider.clientSecretFile === undefined) return undefined;
  const base = configSource === undefined || configSource === 'defaults' ? process.cwd() : dirname(configSource);
  return readSecretFile(resolve(base, provider.clientSecretFile));
}
