/**
 * `gatehouse` — the command line. One file per command under ./commands; this file only
 * assembles them.
 */
import 'reflect-metadata';
import { Command } from 'commander';
import { reportFailure, usageLine } from './program.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerServe } from './commands/serve.ts';
import { registerConfig } from './commands/config.ts';
import { registerUser } from './commands/user.ts';
import { registerKeys } from './commands/keys.ts';
import { registerAudit } from './commands/audit.ts';
import { registerCa } from './commands/ca.ts';
import { registerClient } from './commands/client.ts';
import { registerRoutes } from './commands/routes.ts';
import { registerSecrets } from './commands/secrets.ts';
import { registerToken } from './commands/token.ts';
import { registerIdentity } from './commands/identity.ts';

const program = new Command('gatehouse')
  .description('Gatehouse: authentication and authorization for microservice applications')
  // ./relaunch.ts knows these two options take a value.
  .option('-c, --config <path>', 'gatehouse.yaml to read (env GATEHOUSE_CONFIG; default ./gatehouse.yaml if present)')
  .option('-d, --data-dir <path>', 'data directory (env GATEHOUSE_DATA_DIR; default ./.gatehouse)')
  // Subcommands inherit these (commander copies them into each `.command()`): `gatehouse user
  // --help` lists --data-dir/--config too, and every usage error is one `gatehouse:` line.
  .configureHelp({ showGlobalOptions: true })
  // Help shown because a command is missing goes to stdout; stderr gets the one failure line.
  .configureOutput({ writeErr: (text) => process.stdout.write(text), outputError: (text) => process.stderr.write(usageLine(text)) })
  .exitOverride((error) => {
    if (error.exitCode === 0) process.exit(0);
    if (error.code === 'commander.help') process.stderr.write(usageLine('a command is required'));
    process.exit(2);
  });

registerServe(program);
registerMigrate(program);
registerConfig(program);
registerUser(program);
registerKeys(program);
registerAudit(program);
registerCa(program);
registerClient(program);
registerRoutes(program);
registerSecrets(program);
registerToken(program);
registerIdentity(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  reportFailure(error);
}
