/**
 * `gatehouse user …` — parse, call the UserService (the same one the admin API calls), print.
 */
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { generatePassword, type User } from '../../identity/index.ts';
import { fail } from '../../shared/errors.ts';

const ACTOR = 'cli';

const collect = (value: string, previous: string[]) => [...previous, value];

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliUsageError('--password-stdin expects the password on standard input (pipe it in)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is the pipe's, not the password's.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function passwordFrom(options: { password?: string; passwordStdin?: boolean }): Promise<string | undefined> {
  if (options.password !== undefined && options.passwordStdin) throw new CliUsageError('use either --password or --password-stdin, not both');
  if (options.passwordStdin) return readStdin();
  return options.password;
}

const row = (user: User) => ({ username: user.username, id: user.id, email: user.email, status: user.status, roles: user.roles });

function printUser(user: User, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify(user, null, 2));
    return;
  }
  const time = (seconds: number | null) => (seconds === null ? '-' : new Date(seconds * 1000).toISOString());
  const lines: Array<[string, string]> = [
    ['username', user.username], ['id', user.id], ['email', user.email], ['status', user.status],
    ['roles', user.roles.join(', ') || '-'], ['created', time(user.createdAt)], ['updated', time(user.updatedAt)],
    ['password changed', time(user.passwordChangedAt)],
  ];
  for (const [key, value] of lines) console.log(`${key.padEnd(17)}${value}`);
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage users (the same operations as the admin API)');

  user
    .command('add <username>')
    .usage('<username> --email <email> [options]')
    .description('create a user (an email address is required); without --password a strong password is generated and printed once')
    .requiredOption('--email <email>', 'email address (required; unique, case-insensitive)')
    .option('--password <password>', 'initial password (visible in the process list: prefer --password-stdin)')
    .option('--password-stdin', 'read the initial password from standard input')
    .option('--role <role>', 'grant a role defined in gatehouse.yaml (repeatable)', collect, [])
    .action(async (username: string, options: { email: string; password?: string; passwordStdin?: boolean; role: string[] }, command: Command) => {
      const given = await passwordFrom(options);
      const password = given ?? generatePassword();
      const created = await withContext(command, (context) => context.users.create({ username, email: options.email, password, roles: options.role }, ACTOR));
      console.log(`created user ${created.username} (${created.id})${created.roles.length ? ` with roles ${created.roles.join(', ')}` : ''}`);
      if (given === undefined) console.log(`generated password (shown once): ${password}`);
    });

  user
    .command('list')
    .description('list users')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const users = await withContext(command, (context) => context.users.list());
      if (options.json) console.log(JSON.stringify(users, null, 2));
      else printRows(users.map(row), false);
    });

  user
    .command('show <user>')
    .description('show one user (by username or id)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      printUser(await withContext(command, (context) => context.users.find(name)), options.json);
    });

  user
    .command('disable <user>')
    .description('disable a user: login is refused and their grants and tokens are revoked')
    .action(async (name: string, _options: unknown, command: Command) => {
      const done = await withContext(command, (context) => context.users.disable(name, ACTOR));
      console.log(`disabled user ${done.username}; their tokens were revoked`);
    });

  user
    .command('enable <user>')
    .description('enable a disabled user')
    .action(async (name: string, _options: unknown, command: Command) => {
      const done = await withContext(command, (context) => context.users.enable(name, ACTOR));
      console.log(`enabled user ${done.username}`);
    });

  user
    .command('passwd <user>')
    .description('set a user\'s password (revokes their tokens); without --password-stdin a strong one is generated and printed once')
    .option('--password-stdin', 'read the new password from standard input')
    .action(async (name: string, options: { passwordStdin?: boolean }, command: Command) => {
      const given = options.passwordStdin ? await readStdin() : undefined;
      const password = given ?? generatePassword();
      const done = await withContext(command, (context) => context.users.setPassword(name, password, ACTOR));
      console.log(`password of ${done.username} changed; their tokens were revoked`);
      if (given === undefined) console.log(`generated password (shown once): ${password}`);
    });

  user
    .command('grant <user> <role>')
    .description('grant a role (defined under roles: in gatehouse.yaml)')
    .action(async (name: string, role: string, _options: unknown, command: Command) => {
      const done = await withContext(command, (context) => context.users.grantRole(name, role, ACTOR));
      console.log(`${done.username} now has roles: ${done.roles.join(', ')}`);
    });

  user
    .command('revoke <user> <role>')
    .description('revoke a role (also revokes their tokens, which carry the old roles)')
    .action(async (name: string, role: string, _options: unknown, command: Command) => {
      const done = await withContext(command, (context) => context.users.revokeRole(name, role, ACTOR));
      console.log(`${done.username} now has roles: ${done.roles.join(', ') || '(none)'}`);
    });

  user
    .command('apps <user>')
    .description('list the third-party apps the user connected (granted access)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const apps = await withContext(command, async (context) => context.oauth.connectedApps.list((await context.users.find(name)).id));
      const time = (seconds: number) => new Date(seconds * 1000).toISOString();
      if (options.json) console.log(JSON.stringify(apps, null, 2));
      else printRows(apps.map((app) => ({ client: app.clientId, name: app.clientName, scopes: app.scopes, granted: time(app.grantedAt) })), false);
    });

  user
    .command('disconnect <user> <client-id>')
    .description('disconnect a third-party app: revoke its grants, refresh tokens and access tokens for the user at once')
    .action(async (name: string, clientId: string, _options: unknown, command: Command) => {
      const done = await withContext(command, async (context) => {
        const found = await context.users.find(name);
        return { username: found.username, disconnected: await context.oauth.connectedApps.disconnect(found.id, clientId, ACTOR) };
      });
      if (!done.disconnected) throw fail.notFound(`Connected app ${clientId} of ${done.username}`);
      console.log(`disconnected ${clientId} from ${done.username}: its tokens are revoked`);
    });
}
