import type { Migration, MigrationProvider } from 'kysely/migration';
import type { Dialect } from '../db.ts';
import { core } from './0001_core.ts';
import { pki } from './0002_pki.ts';
import { tokensEvents } from './0003_tokens_events.ts';
import { oauth } from './0004_oauth.ts';
import { caRotation } from './0005_ca_rotation.ts';
import { clientTokenTtl } from './0006_client_token_ttl.ts';
import { verificationKeys } from './0007_verification_keys.ts';
import { certificateKeys } from './0008_certificate_keys.ts';
import { apiTokens } from './0009_api_tokens.ts';
import { clientAuth } from './0010_client_auth.ts';
import { federatedIdentities } from './0011_federated_identities.ts';
import { deviceFlow } from './0012_device_flow.ts';
import { account } from './0013_account.ts';

/** Versioned, forward-only migrations, in order. Add a file, add a line. */
export function migrations(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '0001_core': core(dialect),
    '0002_pki': pki(dialect),
    '0003_tokens_events': tokensEvents(dialect),
    '0004_oauth': oauth(dialect),
    '0005_ca_rotation': caRotation(dialect),
    '0006_client_token_ttl': clientTokenTtl(dialect),
    '0007_verification_keys': verificationKeys(dialect),
    '0008_certificate_keys': certificateKeys(dialect),
    '0009_api_tokens': apiTokens(dialect),
    '0010_client_auth': clientAuth(dialect),
    '0011_federated_identities': federatedIdentities(dialect),
    '0012_device_flow': deviceFlow(dialect),
    '0013_account': account(dialect),
  };
  return { getMigrations: async () => all };
}
