/**
 * `gatehouse secrets …` — the master key that seals private keys at rest: parse, call the store's
 * re-sealing, print. It does not build the full context: the components would open the stored
 * keys with the new master key before they are re-sealed.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { configFrom, CliUsageError } from '../program.ts';
import { ensureDataDir, loadMasterKey, decodeMasterKey, readSecretFile } from '../../config/index.ts';
import { openStore, rekeyStore } from '../../store/index.ts';
import { createAuditLog } from '../../events/audit.ts';
import { masterKeyId } from '../../shared/sealed.ts';

/** Env var holding the previous master key, instead of --old-key-file. */
const OLD_KEY_ENV = 'GATEHOUSE_OLD_MASTER_KEY';

function oldKey(file: string | undefined): Buffer {
  let text: string | undefined;
  let source: string;
  if (file !== undefined) {
    if (!existsSync(file)) throw new CliUsageError(`--old-key-file: no such file ${file}`);
    text = readSecretFile(file); // refused when group or others can read it, like master.key
    source = `--old-key-file ${file}`;
  } else {
    text = process.env[OLD_KEY_ENV];
    source = OLD_KEY_ENV;
  }
  if (!text) throw new CliUsageError(`give the previous master key: --old-key-file <file> or ${OLD_KEY_ENV}`);
  try {
    return decodeMasterKey(text, source);
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
}

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('secrets at rest: the master key that seals signing and CA keys');

  secrets.command('rekey')
    .description('re-seal every stored private key under the current master key (GATEHOUSE_MASTER_KEY or <dataDir>/master.key, generated if absent), in one transaction; stop running services first')
    .option('--old-key-file <file>', `the previous master key (as in master.key: 32 bytes, base64); or env ${OLD_KEY_ENV}`)
    .action(async (options: { oldKeyFile?: string }, command: Command) => {
      const old = oldKey(options.oldKeyFile);
      const config = configFrom(command);
      ensureDataDir(config.dataDir);
      const current = loadMasterKey(config.dataDir);
      if (current.equals(old)) {
        throw new CliUsageError('the old key is the current master key: put the new one in place first (set GATEHOUSE_MASTER_KEY, or move master.key away and a new one is generated)');
      }
      const store = openStore({ url: config.database.url, dataDir: config.dataDir, poolSize: 1 });
      try {
        await store.migrate();
        const audit = createAuditLog(store.db);
        const summary = await rekeyStore(store, { current, old }, (trx, done) =>
          audit.record({ event: 'master_key.rotated', actor: 'cli', subject: done.masterKeyId, data: { previous: masterKeyId(old), resealed: done.resealed } }, trx));
        const counts = Object.entries(summary.resealed).map(([table, n]) => `${table} ${n}`).join(', ');
        console.log(`re-sealed under master key ${summary.masterKeyId}: ${counts}; ${summary.alreadyCurrent} already under it`);
        console.error('keep no copy of the old key; restart the services with the new one');
      } finally {
        await store.close();
      }
    });
}
