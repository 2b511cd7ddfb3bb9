import type { Command } from 'commander';
import { configFrom, CliUsageError } from '../program.ts';
import { loadRouteTable, routeSources, RouteLoadError, type RouteTable } from '../../gateway/routes/index.ts';
import type { Config } from '../../config/index.ts';

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The table, or every problem on stderr (one `gatehouse:` line each) and exit 1. */
function tableOrExit(config: Config & { source: string }): RouteTable {
  try {
    return loadRouteTable(config);
  } catch (error) {
    if (!(error instanceof RouteLoadError)) throw error;
    for (const problem of error.problems) console.error(`gatehouse: ${problem}`);
    process.exit(1);
  }
}

export function registerRoutes(program: Command): void {
  const routes = program.command('routes').description("check and explain the gateway's route rules");
  routes
    .command('check')
    .description('validate routes in gatehouse.yaml and gateway.routesFile (every problem, one line each)')
    .action((_options: unknown, command: Command) => {
      const config = configFrom(command);
      const table = tableOrExit(config);
      console.log(`${table.routes.length} route${table.routes.length === 1 ? '' : 's'} OK (${routeSources(config).join(', ')})`);
    });
  routes
    .command('explain')
    .description('show which rule a request meets and why: GET /api/orders/42')
    .argument('<method>', 'HTTP method (upper-cased)')
    .argument('<target>', 'request target as sent: /path?query')
    .action((method: string, target: string, _options: unknown, command: Command) => {
      if (!METHOD.test(method)) throw new CliUsageError(`not an HTTP method: ${JSON.stringify(method)}`);
      const config = configFrom(command);
      for (const line of tableOrExit(config).explain(method.toUpperCase(), target, config.gateway.maxTargetLength)) console.log(line);
    });
}
