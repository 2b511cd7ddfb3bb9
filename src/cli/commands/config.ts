import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { stringify as stringifyYaml } from 'yaml';
import { renderConfigReference } from '../../config/reference.ts';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate gatehouse.yaml and print the effective configuration (file + environment + defaults) as YAML')
    .option('--json', 'print it as JSON instead')
    .action((options: { json?: boolean }, command: Command) => {
      const { source, ...effective } = configFrom(command);
      const { database, ...rest } = effective;
      // The database URL may hold a password: only whether it is set.
      const shown = { ...rest, database: { ...database, url: database.url ? '(set)' : undefined } };
      if (options.json) return console.log(JSON.stringify(shown, null, 2));
      process.stdout.write(`# configuration is valid (${source}); the effective values:\n${stringifyYaml(shown)}`);
    });
  config
    .command('docs')
    .description('print the configuration reference (markdown) generated from the schema')
    .action(() => {
      process.stdout.write(renderConfigReference());
    });
}
