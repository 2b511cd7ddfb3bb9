import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { createSecurityService } from '../../service.ts';
import { stopOnSignal } from '../../process.ts';
import { createGateway } from '../../gateway/index.ts';
import { createLogger } from '../../shared/logger.ts';

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
  serve
    .command('gateway')
    .description('run the API gateway (routes, services and gateway.* of the config; SIGHUP reloads the routes)')
    .action(async (_options, command: Command) => {
      const config = configFrom(command);
      const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, asyncStdout: true });
      const gateway = await createGateway({ config, logger });
      const url = await gateway.listen();
      logger.info({ url, issuer: config.issuer, routes: config.routes.length, services: Object.keys(config.services) }, 'gateway listening');
      stopOnSignal(async () => {
        await gateway.close();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      });
    });
}
