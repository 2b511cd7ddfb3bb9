import type { Command } from 'commander';
import { withContext, printRows } from '../program.ts';

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys of access tokens, ID tokens and security events');
  keys
    .command('list')
    .description('list signing keys: active (signs), next (published, signs after the next rotation), retired (published until every token it signed has expired)')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }, command: Command) =>
      withContext(command, async (context) => {
        const list = await context.keys.list();
        if (options.json) return printRows(list as unknown as Array<Record<string, unknown>>, true);
        printRows(list.map((key) => ({ kid: key.kid, alg: key.alg, state: key.state, created: iso(key.createdAt), activated: iso(key.activatedAt), published_until: iso(key.retireUntil) })), false);
      }));
  keys
    .command('rotate')
    .description('rotate: the pre-published next key starts signing, the active key is retired (kept in JWKS until its tokens expire), a new next key is published')
    .action((_options, command: Command) =>
      withContext(command, async (context) => {
        const result = await context.keys.rotate('cli');
        // Running services notice by polling the key set version; subscribers also get an event.
        await context.events.publish({ type: 'keys.rotated', activeKid: result.activeKid });
        console.log(`rotated: active ${result.activeKid}, next ${result.nextKid}, retired ${result.retiredKid}`);
      }));
}
