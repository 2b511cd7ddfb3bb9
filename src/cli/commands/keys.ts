import type { Command } from 'commander';
import { withContext, printRows } from '../program.ts';

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys of access tokens, ID tokens and security events');
  keys
    .command('list')
    .description('list signing keys: active (signs), next (published, may sign from `eligible` on), retired (published until every token it signed has expired)')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }, command: Command) =>
      withContext(command, async (context) => {
        const list = await context.keys.list();
        if (options.json) return printRows(list as unknown as Array<Record<string, unknown>>, true);
        printRows(list.map((key) => ({ kid: key.kid, alg: key.alg, state: key.state, published: iso(key.createdAt), eligible: iso(key.eligibleAt), activated: iso(key.activatedAt), published_until: iso(key.retireUntil) })), false);
      }));
  keys
    .command('rotate')
    .description('rotate: the pre-published next key starts signing (once published for tokens.keyActivationDelay), the active key is retired (kept in JWKS until its tokens expire), a new next key is published')
    .option('--force', 'rotate even if the next key was published less than tokens.keyActivationDelay ago (relying parties may reject its tokens until they refetch JWKS)')
    .action((options: { force?: boolean }, command: Command) =>
      withContext(command, async (context) => {
        const result = await context.keys.rotate('cli', { force: options.force === true });
        // Running services notice by polling the key set version; subscribers also get an event.
        await context.events.publish({ type: 'keys.rotated', activeKid: result.activeKid });
        if (result.forced) console.error(`warning: forced: ${result.activeKid} signs although it was published less than tokens.keyActivationDelay ago; relying parties that have not refetched JWKS reject its tokens until they do`);
        console.log(`rotated: active ${result.activeKid}, next ${result.nextKid}, retired ${result.retiredKid}`);
        console.log(`the next key ${result.nextKid} may become active from ${iso(result.nextEligibleAt)} (tokens.keyActivationDelay)`);
      }));
}
