/**
 * `gatehouse identity …` — the identities at external identity providers linked to a user
 * (docs/identity-providers.md): the same `linkedIdentities` the account page uses.
 */
import type { Command } from 'commander';
import { withContext, printRows } from '../program.ts';

const ACTOR = 'cli';

export function registerIdentity(program: Command): void {
  const identity = program.command('identity').description('identities at external identity providers linked to users');

  identity
    .command('list <user>')
    .description('list the identities linked to a user (by username or id)')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { json?: boolean }, command: Command) => {
      const links = await withContext(command, async (context) => context.linkedIdentities.list((await context.users.find(name)).id));
      const time = (seconds: number) => new Date(seconds * 1000).toISOString();
      if (options.json) console.log(JSON.stringify(links, null, 2));
      else printRows(links.map((link) => ({ provider: link.provider, subject: link.subject, label: link.label ?? '-', linked: time(link.linkedAt) })), false);
    });

  identity
    .command('unlink <user> <provider> <subject>')
    .description('remove a linked identity; refused when it is the only way a user without a password signs in')
    .action(async (name: string, provider: string, subject: string, _options: unknown, command: Command) => {
      const removed = await withContext(command, async (context) => context.linkedIdentities.unlink((await context.users.find(name)).id, provider, subject, ACTOR));
      if (!removed) {
        console.error(`no identity ${provider}/${subject} is linked to ${name}`);
        process.exitCode = 1;
        return;
      }
      console.log(`unlinked ${provider}/${subject} from ${name}`);
    });
}
