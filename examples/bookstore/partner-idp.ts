/**
 * The demo's external identity provider, "Partner SSO": a second, independently configured
 * Gatehouse Security Service on a free loopback port, with its own data directory
 * (<dataDir>/partner-idp) and one user, zoe (a customer there). The bookstore's Security Service
 * lists it under `identityProviders` so the sign-in page shows "Sign in with Partner SSO"
 * (docs/identity-providers.md). zoe's password is generated on first start and kept in
 * <dataDir>/partner-idp/partner.json (0600); our client secret there is registered afresh at
 * every start and handed over as an environment value, like every other demo secret.
 */
import { createServer } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchema, ensureDataDir, writeSecretFile, type IdentityProviderConfig } from '../../src/config/index.ts';
import { createSecurityService } from '../../src/service.ts';
import { generatePassword } from '../../src/identity/index.ts';
import type { Logger } from '../../src/shared/logger.ts';

export const PARTNER_ID = 'partner';
export const PARTNER_USER = 'zoe';
const CLIENT_ID = 'bookstore';

export interface PartnerIdp {
  issuer: string;
  /** The `identityProviders` entry the bookstore's Security Service gets. */
  provider: IdentityProviderConfig;
  /** Our client secret at the partner (GATEHOUSE_IDP_PARTNER_CLIENT_SECRET). */
  secret: string;
  password: string;
  close(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().unref().on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPartnerIdp(options: { dataDir: string; publicUrl: string; logger: Logger }): Promise<PartnerIdp> {
  const dataDir = join(options.dataDir, 'partner-idp');
  ensureDataDir(dataDir);
  const port = await freePort();
  // 127.0.0.1, not localhost: its cookies stay apart from the bookstore's (cookies ignore ports).
  const issuer = `http://127.0.0.1:${port}`;
  const config = configSchema.parse({ issuer, dataDir, listen: { host: '127.0.0.1', port, tlsPort: await freePort() }, resources: [{ audience: `${issuer}/api`, scopes: [] }] });
  const service = await createSecurityService({ config, logger: options.logger, env: {} });
  try {
    const seedFile = join(dataDir, 'partner.json');
    const known = existsSync(seedFile) ? (JSON.parse(readFileSync(seedFile, 'utf8')) as { password?: string }) : {};
    const password = known.password ?? generatePassword();
    const { users, oauth } = service.context;
    if (!(await users.list()).some((user) => user.username === PARTNER_USER)) {
      await users.create({ username: PARTNER_USER, email: 'zoe@partner.example', password, roles: ['customer'] }, 'demo');
    }
    writeSecretFile(seedFile, JSON.stringify({ password }, null, 2));
    if ((await oauth.clients.list()).some((client) => client.clientId === CLIENT_ID)) await oauth.clients.remove(CLIENT_ID, 'demo');
    const { secret } = await oauth.clients.create({
      clientId: CLIENT_ID, name: 'Bookstore', firstParty: true,
      redirectUris: [`${options.publicUrl}/federation/${PARTNER_ID}/callback`],
      grantTypes: ['authorization_code'], scope: 'openid profile email roles',
    }, 'demo');
    await service.listen();
    const provider: IdentityProviderConfig = {
      type: 'oidc', id: PARTNER_ID, name: 'Partner SSO', issuer, clientId: CLIENT_ID,
      scopes: ['openid', 'profile', 'email', 'roles'],
      claims: { subject: 'sub', username: 'preferred_username', email: 'email' },
      tokenEndpointAuthMethod: 'client_secret_basic', timeout: 5,
      // A customer at the partner is a customer of the bookstore.
      roles: [{ claim: 'roles', contains: 'customer', role: 'customer' }],
    };
    return { issuer, provider, secret: secret!, password, close: () => service.close() };
  } catch (error) {
    await service.close();
    throw error;
  }
}
