/**
 * `npm run bookstore-cli -- <command>` — a command-line program of the bookstore that signs in
 * with the device authorization grant (RFC 8628): it shows a short code, the person types it at
 * http://localhost:8080/device in any browser, and the program gets its own tokens. It is a
 * public client (no secret: anything shipped to users' machines cannot keep one).
 *
 *   login    device sign-in; tokens saved to a file only you can read (./token-file.ts)
 *   orders   your orders, through the gateway (GET /api/orders), refreshing the token if needed
 *   logout   revokes the refresh token and forgets the tokens
 *
 * BOOKSTORE_URL (default http://localhost:8080) is the bookstore: the issuer and the API.
 */
import { Command } from 'commander';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { readTokens, removeTokens, tokenFilePath, writeTokens, type StoredTokens } from './token-file.ts';

const CLIENT_ID = 'bookstore-cli';
/** What the CLI asks for: who you are, staying signed in, and reading orders — nothing else. */
const SCOPE = 'openid offline_access orders:read';

interface Order {
  id: string;
  status: string;
  total: number;
  createdAt: number;
  items: Array<{ title: string; quantity: number }>;
}

class CliError extends Error {}

function bookstoreUrl(env: NodeJS.ProcessEnv): string {
  return (env.BOOKSTORE_URL || 'http://localhost:8080').replace(/\/+$/, '');
}

async function discover(issuer: string): Promise<oidc.Configuration> {
  const url = new URL(issuer);
  // Plain http only for the demo on this machine; anything else must be https.
  const local = url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  try {
    return await oidc.discovery(url, CLIENT_ID, undefined, oidc.None(), local ? { execute: [oidc.allowInsecureRequests] } : undefined);
  } catch (error) {
    throw new CliError(`cannot reach the bookstore at ${issuer} (${(error as Error).message}); is \`npm start\` running?`);
  }
}

function stored(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, previous?: StoredTokens): StoredTokens {
  // Only for the messages: the access token (an RFC 9068 JWT for the bookstore API) names the user;
  // the API verifies it, the CLI just reads it.
  const claims = decodeJwt(tokens.access_token);
  const user = typeof claims.preferred_username === 'string' ? claims.preferred_username : tokens.claims()?.sub ?? previous?.user ?? 'you';
  const refreshToken = tokens.refresh_token ?? previous?.refreshToken;
  return {
    issuer: config.serverMetadata().issuer,
    clientId: CLIENT_ID,
    accessToken: tokens.access_token,
    expiresAt: Math.floor(Date.now() / 1000) + (tokens.expiresIn() ?? 60),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    user,
  };
}

function explain(error: unknown): never {
  if (error instanceof oidc.ResponseBodyError) {
    if (error.error === 'access_denied') throw new CliError('the sign-in was denied in the browser');
    if (error.error === 'expired_token') throw new CliError('the code expired before it was confirmed; run `login` again');
    throw new CliError(`the bookstore refused: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
  }
  if (error instanceof Error && error.name === 'TimeoutError') throw new CliError('the code expired before it was confirmed; run `login` again');
  throw error;
}

async function login(env: NodeJS.ProcessEnv): Promise<void> {
  const file = tokenFilePath(env);
  const config = await discover(bookstoreUrl(env));
  const started = await oidc.initiateDeviceAuthorization(config, { scope: SCOPE }).catch(explain);
  process.stdout.write([
    '',
    `  To sign in, open   ${started.verification_uri}`,
    `  and enter the code ${started.user_code}`,
    ...(started.verification_uri_complete ? [`  (or open ${started.verification_uri_complete})`] : []),
    '',
    `  Waiting for you to confirm (the code expires in ${Math.round(started.expires_in / 60)} minutes)…`,
    '',
  ].join('\n'));
  const tokens = await oidc.pollDeviceAuthorizationGrant(config, started).catch(explain);
  const saved = stored(config, tokens);
  writeTokens(file, saved);
  process.stdout.write(`Signed in as ${saved.user}. Tokens saved in ${file} (readable only by you).\n`);
}

/** The saved tokens with a usable access token: refreshed (and saved again) when it is about to expire. */
async function freshTokens(env: NodeJS.ProcessEnv): Promise<StoredTokens> {
  const file = tokenFilePath(env);
  const saved = readTokens(file);
  if (saved === undefined) throw new CliError('not signed in; run `npm run bookstore-cli -- login` first');
  if (saved.expiresAt - 30 > Date.now() / 1000) return saved;
  if (saved.refreshToken === undefined) throw new CliError('the sign-in has expired; run `login` again');
  const config = await discover(saved.issuer);
  const tokens = await oidc.refreshTokenGrant(config, saved.refreshToken).catch((error: unknown) => {
    if (error instanceof oidc.ResponseBodyError && error.error === 'invalid_grant') throw new CliError('the sign-in has ended (signed out or disconnected); run `login` again');
    return explain(error);
  });
  const next = stored(config, tokens, saved);
  writeTokens(file, next);
  return next;
}

async function orders(env: NodeJS.ProcessEnv): Promise<void> {
  const tokens = await freshTokens(env);
  const res = await fetch(`${bookstoreUrl(env)}/api/orders`, { headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' } });
  if (res.status === 401) throw new CliError('the bookstore no longer accepts this sign-in; run `login` again');
  if (!res.ok) throw new CliError(`GET /api/orders answered ${res.status}`);
  const list = ((await res.json()) as { orders: Order[] }).orders;
  if (list.length === 0) {
    process.stdout.write(`No orders for ${tokens.user}.\n`);
    return;
  }
  process.stdout.write(`Orders of ${tokens.user}:\n`);
  for (const order of list) {
    const books = order.items.map((item) => `${item.quantity} × ${item.title}`).join(', ');
    process.stdout.write(`  ${order.id}  ${new Date(order.createdAt * 1000).toISOString().slice(0, 10)}  ${order.status.padEnd(8)}  ${order.total.toFixed(2).padStart(8)}  ${books}\n`);
  }
}

async function logout(env: NodeJS.ProcessEnv): Promise<void> {
  const file = tokenFilePath(env);
  const saved = readTokens(file);
  if (saved?.refreshToken !== undefined) {
    // RFC 7009: a public client revokes its own token with its client_id. Best effort: forget it either way.
    await discover(saved.issuer).then((config) => oidc.tokenRevocation(config, saved.refreshToken!)).catch(() => {});
  }
  process.stdout.write(removeTokens(file) ? 'Signed out; tokens removed.\n' : 'Not signed in.\n');
}

const program = new Command('bookstore-cli').description('The bookstore from a terminal: device sign-in (RFC 8628) and your orders');
program.command('login').description('sign in with a code you confirm in a browser').action(() => login(process.env));
program.command('orders').description('list your orders').action(() => orders(process.env));
program.command('logout').description('revoke and forget the saved tokens').action(() => logout(process.env));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`bookstore-cli: ${error instanceof CliError ? error.message : String((error as Error)?.stack ?? error)}\n`);
  process.exitCode = 1;
}
