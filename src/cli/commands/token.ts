/**
 * `gatehouse token …` — personal API tokens of a user (the same service as the admin API and the
 * account page): create (the token is printed once), list, revoke.
 */
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { parseDuration } from '../../shared/clock.ts';
import { fail } from '../../shared/errors.ts';
import type { ApiTokenSummary } from '../../tokens/index.ts';

const ACTOR = 'cli';

const collect = (value: string, previous: string[]) => [...previous, ...value.split(/[\s,]+/).filter((s) => s !== '')];
const iso = (epoch: number | undefined) => (epoch === undefined ? undefined : new Date(epoch * 1000).toISOString().replace('.000Z', 'Z'));

const row = (token: ApiTokenSummary) => ({
  id: token.id,
  name: token.name,
  scopes: token.scopes,
  created: iso(token.createdAt),
  expires: iso(token.expiresAt),
  lastUsed: iso(token.lastUsedAt),
  address: token.lastUsedAddress,
});

/** `30d`, `12h`, `90m` → whole seconds. */
function expirySeconds(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text);
  } catch {
    throw new CliUsageError(`--expires expects a duration like 30d, 12h or 90m, received ${JSON.stringify(text)}`);
  }
  return Math.floor(ms / 1000);
}

interface CreateOptions { user: string; name: string; scope: string[]; expires: string; json?: boolean }

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage personal API tokens (the same operations as the admin API)');

  token
    .command('create')
    .description('create a personal API token for a user; the token is printed once')
    .requiredOption('--user <user>', 'the owner: user id or username')
    .requiredOption('--name <name>', 'a name telling the user\'s tokens apart (e.g. ci)')
    .option('--scope <permission>', 'a permission the token may use, e.g. orders:read (repeatable or space-separated); each must cover one of the user\'s permissions', collect, [])
    .requiredOption('--expires <duration>', 'lifetime, e.g. 30d (at most apiTokens.maxTtl)')
    .option('--json', 'print JSON (includes the token)')
    .action(async (options: CreateOptions, command: Command) => {
      if (options.scope.length === 0) throw new CliUsageError('--scope is required: name at least one permission, e.g. --scope orders:read');
      const expiresIn = expirySeconds(options.expires);
      const created = await withContext(command, async (context) => {
        const user = await context.users.find(options.user);
        return context.apiTokens.create({ userId: user.id, name: options.name, scopes: options.scope, expiresIn }, ACTOR);
      });
      if (options.json) {
        console.log(JSON.stringify(created, null, 2));
        return;
      }
      console.log(`created API token ${created.summary.id} (${created.summary.name}; scopes ${created.summary.scopes.join(' ')}; expires ${iso(created.summary.expiresAt)})`);
      console.log(`token (shown once): ${created.token}`);
      console.error('warning: store the token now; Gatehouse keeps only its digest and cannot show it again');
    });

  token
    .command('list')
    .description('list a user\'s live API tokens (never the tokens themselves)')
    .requiredOption('--user <user>', 'the owner: user id or username')
    .option('--json', 'print JSON')
    .action(async (options: { user: string; json?: boolean }, command: Command) => {
      const tokens = await withContext(command, async (context) => context.apiTokens.list((await context.users.find(options.user)).id));
      if (options.json) console.log(JSON.stringify(tokens, null, 2));
      else printRows(tokens.map(row), false);
    });

  token
    .command('revoke <id>')
    .description('revoke an API token by its id: it stops working at once, and JWTs exchanged for it are revoked')
    .action(async (id: string, _options: unknown, command: Command) => {
      const revoked = await withContext(command, (context) => context.apiTokens.revokeById(id, ACTOR));
      if (!revoked) throw fail.notFound(`live API token ${id}`);
      console.log(`revoked API token ${id}`);
    });
}
