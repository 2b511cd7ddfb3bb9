import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { renderConfigReference } from '../../config/reference.ts';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate gatehouse.yaml and print the effective configuration')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }, command: Command) => {
      const effective = configFrom(command);
      const { database, ...rest } = effective;
      const shown = { ...rest, database: { ...database, url: database.url ? '(set)' : undefined } };
      console.log(options.json ? JSON.stringify(shown, null, 2) : `configuration is valid (${effective.source})`);
    });
  config
    .command('docs')
    .description('print the configuration reference (markdown) generated from the schema')
    .action(() => {
      process.stdout.write(renderConfigReference());
    });
}
