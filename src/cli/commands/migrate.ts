import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { openStore } from '../../store/index.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (also done automatically at start)')
    .action(async (_options, command: Command) => {
      const config = configFrom(command);
      const store = openStore({ url: config.database.url, dataDir: config.dataDir, poolSize: 1 });
      try {
        const applied = await store.migrate();
        console.log(applied.length === 0 ? `up to date (${store.location})` : `applied ${applied.join(', ')} (${store.location})`);
      } finally {
        await store.close();
      }
    });
}
