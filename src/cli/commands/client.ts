/**
 * `gatehouse client …` — parse, call the ClientService (the same one the admin API calls), print.
 */
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { readFileSync } from 'node:fs';
import { parseDuration } from '../../shared/clock.ts';
import { CLIENT_AUTH_METHODS, type Client, type ClientAuthMethod } from '../../oauth/index.ts';

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
    ['authentication', authentication(client)],
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

function authentication(client: Client): string {
  if (client.public) return 'public (PKCE only, no secret)';
  if (client.tokenEndpointAuthMethod === 'private_key_jwt') return `private_key_jwt (${client.jwksUri ?? `${client.jwks?.keys.length ?? 0} inline key(s)`})`;
  const overlap = client.previousSecretExpiresAt === undefined ? '' : `; previous secret until ${new Date(client.previousSecretExpiresAt * 1000).toISOString()}`;
  return `confidential (${client.tokenEndpointAuthMethod}${overlap})`;
}

interface AuthOptions {
  authMethod?: string;
  jwks?: string;
  jwksUri?: string;
}

/** --jwks takes inline JSON or a file holding it. */
function readJwks(value: string): { keys: Record<string, unknown>[] } {
  const text = value.trim().startsWith('{') ? value : (() => {
    try {
      return readFileSync(value, 'utf8');
    } catch (error) {
      throw new CliUsageError(`--jwks expects a JWK Set as JSON or a file holding one; cannot read ${JSON.stringify(value)} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  })();
  try {
    return JSON.parse(text) as { keys: Record<string, unknown>[] };
  } catch {
    throw new CliUsageError('--jwks is not valid JSON');
  }
}

function authInput(options: AuthOptions) {
  return {
    ...(options.authMethod !== undefined ? { tokenEndpointAuthMethod: options.authMethod as ClientAuthMethod } : {}),
    ...(options.jwks !== undefined ? { jwks: readJwks(options.jwks) } : {}),
    ...(options.jwksUri !== undefined ? { jwksUri: options.jwksUri } : {}),
  };
}

const AUTH_METHOD_HELP = `token-endpoint authentication: ${CLIENT_AUTH_METHODS.join(' | ')} (default: client_secret_basic, or none with --public)`;

interface AddOptions extends AuthOptions {
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
    .option('--grant <type>', 'authorization_code | refresh_token | client_credentials (repeatable; default: authorization_code + refresh_token, or client_credentials without redirect URIs)', collect, [])
    .option('--scope <scopes>', 'space-separated scopes the client may request (default: OpenID scopes and the APIs\' scopes)')
    .option('--role <role>', 'role carried by client_credentials tokens (repeatable)', collect, [])
    .option('--access-token-ttl <duration>', 'lifetime of this client\'s access tokens, e.g. 5s, 10m (default: tokens.accessTokenTtl; at most tokens.maxAccessTokenTtl)')
    .option('--auth-method <method>', AUTH_METHOD_HELP)
    .option('--jwks <json-or-file>', 'private_key_jwt: the client\'s public keys (a JWK Set, inline JSON or a file)')
    .option('--jwks-uri <url>', 'private_key_jwt: where the client publishes its JWK Set')
    .option('--json', 'print JSON (includes the secret)')
    .action(async (name: string, options: AddOptions, command: Command) => {
      if (options.firstParty && options.thirdParty) throw new CliUsageError('use either --first-party or --third-party, not both');
      const accessTokenTtl = options.accessTokenTtl === undefined ? undefined : ttlSeconds(options.accessTokenTtl);
      const grantTypes = options.grant.length > 0 ? options.grant : options.redirectUri.length > 0 ? ['authorization_code', 'refresh_token'] : ['client_credentials'];
      const { client: created, secret } = await withContext(command, (context) =>
        context.oauth.clients.create(
          {
            ...(options.id !== undefined ? { clientId: options.id } : {}),
            name,
            firstParty: !options.thirdParty,
            public: (options.public ?? false) || options.authMethod === 'none',
            redirectUris: options.redirectUri,
            postLogoutRedirectUris: options.postLogoutRedirectUri,
            grantTypes,
            ...(options.scope !== undefined ? { scope: options.scope } : {}),
            roles: options.role,
            ...(accessTokenTtl !== undefined ? { accessTokenTtl } : {}),
            ...authInput(options),
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

  registerClientChanges(client);

  client
    .command('remove <client-id>')
    .description('remove a client: it can no longer authenticate or refresh tokens')
    .action(async (clientId: string, _options: unknown, command: Command) => {
      await withContext(command, (context) => context.oauth.clients.remove(clientId, ACTOR));
      console.log(`removed client ${clientId}`);
    });
}

interface UpdateOptions extends AuthOptions {
  name?: string;
  redirectUri?: string[];
  postLogoutRedirectUri?: string[];
  grant?: string[];
  scope?: string;
  role?: string[];
  noRoles?: boolean;
  json?: boolean;
}

/** `client update` and `client rotate-secret`. */
function registerClientChanges(client: Command): void {
  client
    .command('update <client-id>')
    .description('change a client: only the options given change (a list option replaces the whole list); effective at the next request')
    .option('--name <name>', 'display name (shown on the consent page)')
    .option('--redirect-uri <uri>', 'exact redirect URI (repeatable; replaces the list)', collectOptional)
    .option('--post-logout-redirect-uri <uri>', 'post-logout redirect URI (repeatable; replaces the list)', collectOptional)
    .option('--grant <type>', 'authorization_code | refresh_token | client_credentials (repeatable; replaces the list; removing one revokes the client\'s grants and tokens)', collectOptional)
    .option('--scope <scopes>', 'space-separated scopes (replaces them; removing one revokes the client\'s grants and tokens)')
    .option('--role <role>', 'role carried by client_credentials tokens (repeatable; replaces the list)', collectOptional)
    .option('--no-roles', 'remove every role')
    .option('--auth-method <method>', 'client_secret_basic | client_secret_post (switch between the two)')
    .option('--jwks <json-or-file>', 'private_key_jwt: new public keys (a JWK Set, inline JSON or a file)')
    .option('--jwks-uri <url>', 'private_key_jwt: new JWK Set URL')
    .option('--json', 'print JSON')
    .action(async (clientId: string, options: UpdateOptions & { roles?: boolean }, command: Command) => {
      if (options.roles === false && options.role !== undefined) throw new CliUsageError('use either --role or --no-roles, not both');
      const input = {
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.redirectUri !== undefined ? { redirectUris: options.redirectUri } : {}),
        ...(options.postLogoutRedirectUri !== undefined ? { postLogoutRedirectUris: options.postLogoutRedirectUri } : {}),
        ...(options.grant !== undefined ? { grantTypes: options.grant } : {}),
        ...(options.scope !== undefined ? { scope: options.scope } : {}),
        ...(options.role !== undefined ? { roles: options.role } : options.roles === false ? { roles: [] } : {}),
        ...authInput(options),
      };
      if (Object.keys(input).length === 0) throw new CliUsageError('nothing to change: give at least one option (see --help)');
      const updated = await withContext(command, (context) => context.oauth.clients.update(clientId, input, ACTOR));
      if (options.json) console.log(JSON.stringify(updated, null, 2));
      else console.log(`updated client ${updated.clientId}`);
    });

  client
    .command('rotate-secret <client-id>')
    .description('give a client a new secret (printed once); the old one keeps working for the overlap')
    .option('--overlap <duration>', 'how long the old secret keeps working, e.g. 0s, 10m, 1h (default: clients.secretRotationOverlap)')
    .option('--json', 'print JSON (includes the secret)')
    .action(async (clientId: string, options: { overlap?: string; json?: boolean }, command: Command) => {
      const overlap = options.overlap === undefined ? undefined : overlapSeconds(options.overlap);
      const { client: rotated, secret } = await withContext(command, (context) =>
        context.oauth.clients.rotateSecret(clientId, ACTOR, overlap === undefined ? {} : { overlap }),
      );
      if (options.json) {
        console.log(JSON.stringify({ ...rotated, secret }, null, 2));
        return;
      }
      console.log(`rotated the secret of client ${rotated.clientId}`);
      console.log(`client secret (shown once): ${secret}`);
      console.log(rotated.previousSecretExpiresAt === undefined ? 'the previous secret no longer works' : `the previous secret works until ${new Date(rotated.previousSecretExpiresAt * 1000).toISOString()}`);
      console.error('warning: store the secret now; Gatehouse keeps only its digest and cannot show it again');
    });
}

/** Repeatable option without a default: undefined when absent, so "not given" differs from "empty". */
function collectOptional(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function overlapSeconds(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new CliUsageError(`--overlap expects a duration like 0s, 10m or 1h, received ${JSON.stringify(text)}`);
  }
  if (ms % 1000 !== 0) throw new CliUsageError(`--overlap expects whole seconds, received ${JSON.stringify(text)}`);
  return ms / 1000;
}
