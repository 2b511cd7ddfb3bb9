import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { configFrom } from '../program.ts';
import { createSecurityService } from '../../service.ts';
import { stopOnSignal } from '../../process.ts';
import { createGateway } from '../../gateway/index.ts';
import { createLogger } from '../../shared/logger.ts';

/**
 * V8 "pretenures" an allocation site whose objects all survived a garbage collection: it
 * allocates them in the old generation from then on. A full collection while the gateway's first
 * requests are in flight (one is likely: start-up leaves a large heap behind) does that to sites
 * of Node's HTTP internals; the request objects then born old keep every young object they point
 * to alive through each minor collection, so those survive, pass as long-lived, and the whole
 * request graph is copied and promoted again and again. Measured under load: a quarter of all
 * allocation survived each scavenge (11 MB of 45), scavenges took ~20 ms instead of ~2, and the
 * gateway spent ~18 µs more CPU per request. Without pretenuring a request's objects die young,
 * as they should in a proxy.
 */
function keepRequestsYoung(): void {
  setFlagsFromString('--no-allocation-site-pretenuring');
}

export function registerServe(program: Command): void {
  const serve = program.command('serve').description('run a Gatehouse component');
  serve
    .command('auth')
    .description('run the Security Service (OIDC provider, admin API, CA)')
    .option('-p, --port <port>', 'port of the HTTP listener (env GATEHOUSE_PORT; default listen.port, 8080); the default issuer follows it')
    .action(async (options: { port?: string }, command: Command) => {
      const config = configFrom(command, { port: options.port });
      const service = await createSecurityService({ config });
      const url = await service.listen();
      // Before the line that says it is up: a SIGINT that comes before the handler kills the process outright.
      stopOnSignal(() => service.close());
      service.context.logger.info({ url, issuer: config.issuer, tls: service.tlsUrl, store: service.context.store.location }, `security service listening on ${url} (issuer ${config.issuer})`);
    });
  serve
    .command('gateway')
    .description('run the API gateway (routes, services and gateway.* of the config; SIGHUP reloads the routes)')
    .action(async (_options, command: Command) => {
      const config = configFrom(command);
      keepRequestsYoung();
      const logger = createLogger({ level: config.log.level, pretty: config.log.pretty, asyncStdout: true });
      const gateway = await createGateway({ config, logger });
      const url = await gateway.listen();
      stopOnSignal(async () => {
        await gateway.close();
        await new Promise<void>((resolve) => logger.flush(() => resolve()));
      });
      logger.info({ url, issuer: config.issuer, routes: config.routes.length, services: Object.keys(config.services) }, 'gateway listening');
    });
}
