import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { parseDuration } from '../../shared/clock.ts';

const iso = (seconds: number | null) => (seconds === null ? null : new Date(seconds * 1000).toISOString());

/** `--expires`: a duration from now (`30d`) or a date (`2027-01-31`, `2027-01-31T12:00:00Z`) → epoch seconds. */
function expiryOf(text: string, now: number): number {
  if (/^\d+(ms|s|m|h|d)$/.test(text.trim())) return Math.floor((now + parseDuration(text)) / 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new CliUsageError(`--expires expects a duration like 30d or a date like 2027-01-31, received ${JSON.stringify(text)}`);
  return Math.floor(at / 1000);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys of access tokens, ID tokens and security events');
  keys
    .command('list')
    .description('list keys: active (signs), next (published, may sign from `eligible` on), retired (published until every token it signed has expired), verify-only (another issuer\'s key, published until `published_until` or removal)')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }, command: Command) =>
      withContext(command, async (context) => {
        const signing = await context.keys.list();
        const verifyOnly = (await context.keys.verifyOnly.list()).map((key) => ({ kid: key.kid, alg: key.alg, state: 'verify-only' as const, createdAt: key.createdAt, eligibleAt: null, activatedAt: null, retireUntil: key.expiresAt }));
        const list = [...signing, ...verifyOnly];
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
  keys
    .command('import')
    .description('publish another issuer\'s public key in JWKS so its tokens stay valid during a migration; it never signs')
    .requiredOption('--file <pem>', 'PEM public key (BEGIN PUBLIC KEY) or certificate: EC P-256, RSA ≥ 2048 bits or Ed25519')
    .option('--verify-only', 'required: the key is published for verification only (Gatehouse never signs with it)')
    .option('--kid <kid>', 'key id tokens carry in their header (default: the RFC 7638 thumbprint)')
    .option('--alg <alg>', 'ES256 | RS256 | EdDSA (default: inferred from the key; checked against it)')
    .option('--expires <when>', 'drop it from JWKS after this: a duration (30d) or a date (2027-01-31)')
    .action((options: { file: string; verifyOnly?: boolean; kid?: string; alg?: string; expires?: string }, command: Command) => {
      if (!options.verifyOnly) throw new CliUsageError('keys import needs --verify-only: only public keys of another issuer can be imported, and they never sign');
      let pem: string;
      try {
        pem = readFileSync(options.file, 'utf8');
      } catch (error) {
        throw new CliUsageError(`--file: cannot read ${options.file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const expiresAt = options.expires === undefined ? undefined : expiryOf(options.expires, Date.now());
      return withContext(command, async (context) => {
        const key = await context.keys.verifyOnly.import({ pem, kid: options.kid, alg: options.alg, expiresAt }, 'cli');
        console.log(`imported verify-only key ${key.kid} (${key.alg}), published in JWKS ${key.expiresAt === null ? 'until removed' : `until ${iso(key.expiresAt)}`}; running services publish it within tokens.keyCheckInterval`);
      });
    });
  keys
    .command('remove')
    .description('remove a verify-only key from JWKS (signing keys leave JWKS through rotation)')
    .requiredOption('--kid <kid>', 'the verify-only key to remove')
    .action((options: { kid: string }, command: Command) =>
      withContext(command, async (context) => {
        await context.keys.verifyOnly.remove(options.kid, 'cli');
        console.log(`removed verify-only key ${options.kid}`);
      }));
}
