import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { createSecurityService } from '../../service.ts';

export function registerServe(program: Command): void {
  const serve = program.command('serve').description('run a Gatehouse component');
  serve
    .command('auth')
    .description('run the Security Service (OIDC provider, admin API, CA)')
    .action(async (_options, command: Command) => {
      const config = configFrom(command);
      const service = await createSecurityService({ config });
      const url = await service.listen();
      service.context.logger.info({ url, issuer: config.issuer, store: service.context.store.location }, 'security service listening');
      stopOnSignal(() => service.close());
    });
}

/** Graceful stop on SIGINT/SIGTERM: finish in-flight requests, close the store. */
export function stopOnSignal(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
