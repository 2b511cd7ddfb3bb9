/**
 * Demo data for `npm start`: users alice (customer), bob (staff), carol (admin) and three OAuth
 * clients. Seeded once per data directory; what the first start generated (the password and the
 * confidential clients' secrets) is kept in `<dataDir>/demo.json` (0600) so later starts can
 * print it again.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceContext } from '../../src/service.ts';
import { writeSecretFile } from '../../src/config/index.ts';
import { generatePassword } from '../../src/identity/index.ts';

export const DEMO_USERS = [
  { username: 'alice', email: 'alice@bookstore.example', roles: ['customer'] },
  { username: 'bob', email: 'bob@bookstore.example', roles: ['staff'] },
  { username: 'carol', email: 'carol@bookstore.example', roles: ['admin'] },
] as const;

export const DEMO_WEB_CLIENT = 'bookstore-web';

export interface DemoSeed {
  password: string;
  passwordFromEnv: boolean;
  clients: Array<{ clientId: string; secret?: string | undefined; note: string }>;
}

export async function seedDemo(context: ServiceContext, env: NodeJS.ProcessEnv): Promise<DemoSeed> {
  const seedFile = join(context.config.dataDir, 'demo.json');
  if (existsSync(seedFile)) return JSON.parse(readFileSync(seedFile, 'utf8')) as DemoSeed;
  const fromEnv = env.GATEHOUSE_DEMO_PASSWORD;
  const password = fromEnv || generatePassword();
  for (const user of DEMO_USERS) {
    await context.users.create({ username: user.username, email: user.email, password, roles: [...user.roles] }, 'demo');
  }
  const { issuer } = context.config;
  const clients = context.oauth.clients;
  const web = await clients.create({
    clientId: DEMO_WEB_CLIENT, name: 'Bookstore', firstParty: true, public: true,
    redirectUris: [`${issuer}/demo/callback`],
    postLogoutRedirectUris: [`${issuer}/`],
    grantTypes: ['authorization_code', 'refresh_token'],
  }, 'demo');
  const partner = await clients.create({
    clientId: 'reading-list', name: 'Reading List (a third-party app)', firstParty: false,
    redirectUris: ['http://localhost:3001/callback'],
    grantTypes: ['authorization_code', 'refresh_token'],
  }, 'demo');
  const service = await clients.create({
    clientId: 'catalog-service', name: 'Catalog service', firstParty: true,
    redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read', roles: ['staff'],
  }, 'demo');
  const seed: DemoSeed = {
    password,
    passwordFromEnv: Boolean(fromEnv),
    clients: [
      { clientId: web.client.clientId, note: 'first-party, public, PKCE: the sign-in demo at /demo' },
      { clientId: partner.client.clientId, secret: partner.secret, note: 'third-party, confidential: users see a consent page' },
      { clientId: service.client.clientId, secret: service.secret, note: 'client_credentials: a service credential for /events' },
    ],
  };
  writeSecretFile(seedFile, JSON.stringify(seed, null, 2));
  return seed;
}

/**
 * GATEHOUSE_DEMO_PASSWORD overrides the demo password, also on a data directory seeded earlier
 * with another one: the demo users' passwords are changed (and their grants revoked, as for any
 * password change).
 */
export async function applyDemoPasswordOverride(context: ServiceContext, seed: DemoSeed, env: NodeJS.ProcessEnv): Promise<void> {
  const wanted = env.GATEHOUSE_DEMO_PASSWORD;
  if (!wanted || wanted === seed.password) return;
  for (const user of DEMO_USERS) await context.users.setPassword(user.username, wanted, 'demo');
  seed.password = wanted;
  seed.passwordFromEnv = true;
  writeSecretFile(join(context.config.dataDir, 'demo.json'), JSON.stringify(seed, null, 2));
}
