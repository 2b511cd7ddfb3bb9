/**
 * `gatehouse start` (what `npm start` runs): the all-in-one demo. Runs the Security Service and,
 * on first start, seeds demo users, roles and OAuth clients, printing what a person needs to try it.
 */
import type { Command } from 'commander';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { configFrom } from '../program.ts';
import { createSecurityService, type ServiceContext } from '../../service.ts';
import { loadOrCreateSecret, writeSecretFile } from '../../config/index.ts';
import { randomToken } from '../../shared/random.ts';
import { stopOnSignal } from './serve.ts';

export const DEMO_USERS = [
  { username: 'alice', email: 'alice@bookstore.example', roles: ['customer'] },
  { username: 'bob', email: 'bob@bookstore.example', roles: ['staff'] },
  { username: 'carol', email: 'carol@bookstore.example', roles: ['admin'] },
] as const;

interface DemoSeed { password: string; clients: Array<{ clientId: string; secret?: string; note: string }> }

/** Seeds the demo once; later starts read what the first start generated. */
async function seedDemo(context: ServiceContext, dataDir: string, env: NodeJS.ProcessEnv): Promise<DemoSeed> {
  const seedFile = join(dataDir, 'demo.json');
  if (existsSync(seedFile)) return JSON.parse(readFileSync(seedFile, 'utf8')) as DemoSeed;
  const password = env.GATEHOUSE_DEMO_PASSWORD || `${randomToken(9)}-${randomToken(6)}`;
  for (const user of DEMO_USERS) {
    await context.users.create({ username: user.username, email: user.email, password, roles: [...user.roles] }, 'demo');
  }
  const { issuer } = context.config;
  const clients: DemoSeed['clients'] = [];
  const web = await context.oauth.clients.create({
    clientId: 'bookstore-web', name: 'Bookstore (first-party web app)', firstParty: true, public: true,
    redirectUris: [`${issuer}/demo/callback`, 'http://localhost:3000/callback'],
    postLogoutRedirectUris: [`${issuer}/`],
    grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile email offline_access',
  }, 'demo');
  clients.push({ clientId: web.client.clientId, note: 'first-party, public, PKCE; no consent screen' });
  const partner = await context.oauth.clients.create({
    clientId: 'reading-list', name: 'Reading List (third-party app)', firstParty: false,
    redirectUris: ['http://localhost:3001/callback'],
    grantTypes: ['authorization_code', 'refresh_token'], scope: 'openid profile email offline_access',
  }, 'demo');
  clients.push({ clientId: partner.client.clientId, secret: partner.secret, note: 'third-party, confidential; asks for consent' });
  const service = await context.oauth.clients.create({
    clientId: 'catalog-service', name: 'Catalog service (machine-to-machine)', firstParty: true,
    redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read', roles: ['staff'],
  }, 'demo');
  clients.push({ clientId: service.client.clientId, secret: service.secret, note: 'client_credentials service credential' });
  const seed: DemoSeed = { password, clients };
  writeSecretFile(seedFile, JSON.stringify(seed, null, 2));
  return seed;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the all-in-one demo: Security Service with demo users alice, bob, carol and demo clients')
    .action(async (_options, command: Command) => {
      const config = configFrom(command);
      const service = await createSecurityService({ config });
      const seed = await seedDemo(service.context, config.dataDir, process.env);
      await service.listen();
      const { issuer } = config;
      const lines = [
        '',
        `  Gatehouse demo is running at ${issuer}`,
        '',
        `  discovery   ${issuer}/.well-known/openid-configuration`,
        `  JWKS        ${issuer}/.well-known/jwks.json`,
        `  policy      ${issuer}/policy`,
        `  CA bundle   ${issuer}/pki/bundle.pem`,
        '',
        `  users       alice (customer), bob (staff), carol (admin)`,
        `  password    ${seed.password}${process.env.GATEHOUSE_DEMO_PASSWORD ? ' (from GATEHOUSE_DEMO_PASSWORD)' : ''}`,
        '',
        '  clients',
        ...seed.clients.map((c) => `    ${c.clientId.padEnd(16)} ${c.note}${c.secret ? `\n    ${''.padEnd(16)} secret: ${c.secret}` : ''}`),
        '',
        `  data        ${config.dataDir} (demo secrets in demo.json, 0600)`,
        '  stop        Ctrl-C',
        '',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      stopOnSignal(() => service.close());
    });
}
