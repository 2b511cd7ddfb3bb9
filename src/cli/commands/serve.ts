import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { createSecurityService } from '../../service.ts';
import { stopOnSignal } from '../../process.ts';

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
