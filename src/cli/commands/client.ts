/**
 * `gatehouse client …` — parse, call the ClientService (the same one the admin API calls), print.
 */
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { parseDuration } from '../../shared/clock.ts';
import type { Client } from '../../oauth/index.ts';
import { DEVICE_CODE_GRANT } from '../../oauth/index.ts';

const ACTOR = 'cli';

const collect = (value: string, previous: string[]) => [...previous, value];

const row = (client: Client) => ({
  id: client.clientId,
  name: client.name,
  type: `${client.firstParty ? 'first-party' : 'third-party'}${client.public ? ', public' : ''}`,
  grants: client.grantTypes,
});

function printClient(client: Client, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(client, null, 2));
    return;
  }
  const lines: Array<[string, string]> = [
    ['client id', client.clientId],
    ['name', client.name],
    ['party', client.firstParty ? 'first-party (no consent page)' : 'third-party (consent page)'],
    ['authentication', client.public ? 'public (PKCE only, no secret)' : 'confidential (client_secret_basic)'],
    ['grant types', client.grantTypes.join(', ')],
    ['redirect URIs', client.redirectUris.join(' ') || '-'],
    ['post-logout URIs', client.postLogoutRedirectUris.join(' ') || '-'],
    ['scope', client.scope || '-'],
    ['roles', client.roles.join(', ') || '-'],
    ['access tokens', client.accessTokenTtl === null ? 'tokens.accessTokenTtl' : `${client.accessTokenTtl} s`],
    ['created', new Date(client.createdAt * 1000).toISOString()],
  ];
  for (const [key, value] of lines) console.log(`${key.padEnd(17)}${value}`);
}

interface AddOptions {
  id?: string;
  firstParty?: boolean;
  thirdParty?: boolean;
  public?: boolean;
  redirectUri: string[];
  postLogoutRedirectUri: string[];
  grant: string[];
  scope?: string;
  role: string[];
  accessTokenTtl?: string;
  json?: boolean;
}

/** `5s`, `10m`, `1h` → whole seconds (at least 1). */
function ttlSeconds(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new CliUsageError(`--access-token-ttl expects a duration like 5s, 10m or 1h, received ${JSON.stringify(text)}`);
  }
  if (ms < 1000 || ms % 1000 !== 0) throw new CliUsageError(`--access-token-ttl expects whole seconds, at least 1s, received ${JSON.stringify(text)}`);
  return ms / 1000;
}

export function registerClient(program: Command): void {
  const client = program.command('client').description('manage OAuth clients (the same operations as the admin API)');

  client
    .command('add <name>')
    .description('register a client; a confidential client\'s secret is printed once')
    .option('--id <client-id>', 'client id (default: generated)')
    .option('--first-party', 'one of your own applications: no consent page (default)')
    .option('--third-party', 'someone else\'s application: users see a consent page')
    .option('--public', 'a public client (SPA, native app): no secret, PKCE only')
    .option('--redirect-uri <uri>', 'exact redirect URI (repeatable; needed for authorization_code)', collect, [])
    .option('--post-logout-redirect-uri <uri>', 'where RP-initiated logout may return (repeatable)', collect, [])
    .option('--grant <type>', 'authorization_code | refresh_token | client_credentials | device_code (RFC 8628; short for urn:ietf:params:oauth:grant-type:device_code) (repeatable; default: authorization_code + refresh_token, or client_credentials without redirect URIs)', collect, [])
    .option('--scope <scopes>', 'space-separated scopes the client may request (default: OpenID scopes and the APIs\' scopes)')
    .option('--role <role>', 'role carried by client_credentials tokens (repeatable)', collect, [])
    .option('--access-token-ttl <duration>', 'lifetime of this client\'s access tokens, e.g. 5s, 10m (default: tokens.accessTokenTtl; at most tokens.maxAccessTokenTtl)')
    .option('--json', 'print JSON (includes the secret)')
    .action(async (name: string, options: AddOptions, command: Command) => {
      if (options.firstParty && options.thirdParty) throw new CliUsageError('use either --first-party or --third-party, not both');
      const accessTokenTtl = options.accessTokenTtl === undefined ? undefined : ttlSeconds(options.accessTokenTtl);
      const grantTypes = options.grant.length > 0 ? options.grant.map((grant) => (grant === 'device_code' ? DEVICE_CODE_GRANT : grant)) : options.redirectUri.length > 0 ? ['authorization_code', 'refresh_token'] : ['client_credentials'];
      const { client: created, secret } = await withContext(command, (context) =>
        context.oauth.clients.create(
          {
            ...(options.id !== undefined ? { clientId: options.id } : {}),
            name,
            firstParty: !options.thirdParty,
            public: options.public ?? false,
            redirectUris: options.redirectUri,
            postLogoutRedirectUris: options.postLogoutRedirectUri,
            grantTypes,
            ...(options.scope !== undefined ? { scope: options.scope } : {}),
            roles: options.role,
            ...(accessTokenTtl !== undefined ? { accessTokenTtl } : {}),
          },
          ACTOR,
        ),
      );
      if (options.json) {
        console.log(JSON.stringify(secret === undefined ? created : { ...created, secret }, null, 2));
        return;
      }
      console.log(`created client ${created.clientId} (${row(created).type}; grants ${created.grantTypes.join(', ')})`);
      if (secret !== undefined) {
        console.log(`client secret (shown once): ${secret}`);
        console.error('warning: store the secret now; Gatehouse keeps only its digest and cannot show it again');
      }
    });

  client
    .command('list')
    .description('list clients')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const clients = await withContext(command, (context) => context.oauth.clients.list());
      if (options.json) console.log(JSON.stringify(clients, null, 2));
      else printRows(clients.map(row), false);
    });

  client
    .command('show <client-id>')
    .description('show one client')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: { json?: boolean }, command: Command) => {
      printClient(await withContext(command, (context) => context.oauth.clients.find(clientId)), options.json);
    });

  client
    .command('remove <client-id>')
    .description('remove a client: it can no longer authenticate or refresh tokens')
    .action(async (clientId: string, _options: unknown, command: Command) => {
      await withContext(command, (context) => context.oauth.clients.remove(clientId, ACTOR));
      console.log(`removed client ${clientId}`);
    });
}
