/**
 * Demo data for `npm start`: the users alice and dave (customers), bob (staff) and carol (admin),
 * the OAuth clients the bookstore's processes use, and Book Club's (a third-party app).
 * Idempotent: every start adds what is missing, so a data directory from an older demo is
 * brought up to date. What the demo generated (the password, client secrets, the gateway's
 * cookie key) is kept in `<dataDir>/demo.json` (0600) so later starts reuse it.
 */
import { readFileSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ServiceContext } from '../../src/service.ts';
import { DEVICE_CODE_GRANT, type CreateClientInput } from '../../src/oauth/index.ts';
import { writeSecretFile } from '../../src/config/index.ts';
import { generatePassword } from '../../src/identity/index.ts';

export const DEMO_USERS = [
  { username: 'alice', email: 'alice@bookstore.example', roles: ['customer'] },
  { username: 'dave', email: 'dave@bookstore.example', roles: ['customer'] },
  { username: 'bob', email: 'bob@bookstore.example', roles: ['staff'] },
  { username: 'carol', email: 'carol@bookstore.example', roles: ['admin'] },
] as const;

/** The clients of the demo, by what they are for. */
export const DEMO_CLIENTS = {
  /** The gateway's browser sign-in (first-party: no consent page). */
  web: 'bookstore-web',
  /** The gateway's service credential: the security-event stream. */
  gateway: 'gateway',
  catalog: 'catalog-service',
  orders: 'orders-service',
  storefront: 'storefront-service',
  /** Book Club, a third-party web app (not first-party: alice sees the consent page). */
  bookClub: 'book-club',
  /** The terminal program (examples/bookstore/cli): device sign-in, public, third-party (see clientInputs). */
  cli: 'bookstore-cli',
} as const;

export interface DemoSeed {
  version: 2;
  password: string;
  passwordFromEnv: boolean;
  /** Client id → secret, as generated. */
  secrets: Record<string, string>;
  /** The gateway's session-cookie key (32 random bytes, base64). */
  cookieKey: string;
}

function clientInputs(publicUrl: string, bookClubUrl: string): Record<string, CreateClientInput> {
  const service = (name: string, roles: string[] = []): CreateClientInput => ({
    clientId: name, name, firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'events:read', roles,
  });
  return {
    [DEMO_CLIENTS.web]: {
      clientId: DEMO_CLIENTS.web, name: 'Bookstore', firstParty: true,
      redirectUris: [`${publicUrl}/login/callback`], postLogoutRedirectUris: [`${publicUrl}/`],
      grantTypes: ['authorization_code', 'refresh_token'],
    },
    // tokens:exchange: the gateway exchanges personal API tokens for JWTs (docs/api-tokens-gateway.md).
    [DEMO_CLIENTS.gateway]: { ...service(DEMO_CLIENTS.gateway), scope: 'events:read tokens:exchange' },
    [DEMO_CLIENTS.catalog]: service(DEMO_CLIENTS.catalog),
    // Its API token carries svc-orders (catalog:reserve): it reserves stock at the catalog.
    [DEMO_CLIENTS.orders]: service(DEMO_CLIENTS.orders, ['svc-orders']),
    [DEMO_CLIENTS.storefront]: service(DEMO_CLIENTS.storefront),
    // A confidential client of someone else's: only what it needs to read a member's orders.
    [DEMO_CLIENTS.bookClub]: {
      clientId: DEMO_CLIENTS.bookClub, name: 'Book Club', firstParty: false,
      redirectUris: [`${bookClubUrl}/callback`], grantTypes: ['authorization_code'], scope: 'openid profile orders:read',
    },
    // Runs on users' machines, so it keeps no secret (public). Not first-party, although the
    // bookstore ships it: its tokens sit in a file on a laptop, so they are scope-bound (orders:read
    // can only read orders) and the person sees, after the device confirmation, what it may do.
    [DEMO_CLIENTS.cli]: {
      clientId: DEMO_CLIENTS.cli, name: 'Bookstore CLI', firstParty: false, public: true, redirectUris: [],
      grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scope: 'openid offline_access orders:read',
    },
  };
}

function readSeed(file: string): Partial<DemoSeed> {
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoSeed>;
  return parsed.version === 2 ? parsed : { password: parsed.password, passwordFromEnv: parsed.passwordFromEnv };
}

/** `bookClubUrl`: Book Club's origin (its redirect URI is `<bookClubUrl>/callback`). */
export async function seedDemo(context: ServiceContext, env: NodeJS.ProcessEnv, publicUrl: string, bookClubUrl: string): Promise<DemoSeed> {
  const seedFile = join(context.config.dataDir, 'demo.json');
  const known = readSeed(seedFile);
  const fromEnv = env.GATEHOUSE_DEMO_PASSWORD;
  const seed: DemoSeed = {
    version: 2,
    password: known.password ?? (fromEnv || generatePassword()),
    passwordFromEnv: known.passwordFromEnv ?? Boolean(fromEnv),
    secrets: { ...known.secrets },
    cookieKey: known.cookieKey ?? randomBytes(32).toString('base64'),
  };

  const existingUsers = new Set((await context.users.list()).map((user) => user.username));
  for (const user of DEMO_USERS) {
    if (!existingUsers.has(user.username)) await context.users.create({ username: user.username, email: user.email, password: seed.password, roles: [...user.roles] }, 'demo');
  }

  const clients = context.oauth.clients;
  const existingClients = new Map((await clients.list()).map((client) => [client.clientId, client]));
  for (const [clientId, input] of Object.entries(clientInputs(publicUrl, bookClubUrl))) {
    const existing = existingClients.get(clientId);
    const current = existing !== undefined
      && existing.redirectUris.join(' ') === (input.redirectUris ?? []).join(' ')
      && existing.roles.join(' ') === (input.roles ?? []).join(' ')
      && (input.scope === undefined || existing.scope === input.scope)
      && existing.grantTypes.join(' ') === input.grantTypes.join(' ')
      && (input.public === true || seed.secrets[clientId] !== undefined);
    if (current) continue;
    // Missing, from an older demo, or its secret was never kept here: register it afresh.
    if (existing !== undefined) await clients.remove(clientId, 'demo');
    const created = await clients.create(input, 'demo');
    if (created.secret !== undefined) seed.secrets[clientId] = created.secret;
  }
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
  // A password change revokes the users' tokens issued up to this second (docs/events.md): let the
  // second pass before anyone can sign in with the new password.
  const nextSecond = () => new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
  for (const user of DEMO_USERS) await context.users.setPassword(user.username, wanted, 'demo');
  seed.password = wanted;
  seed.passwordFromEnv = true;
  writeSecretFile(join(context.config.dataDir, 'demo.json'), JSON.stringify(seed, null, 2));
  await nextSecond();
}
