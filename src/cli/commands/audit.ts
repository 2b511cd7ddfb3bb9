import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { auditEvents, type AuditEvent } from '../../events/index.ts';
import { parseDuration, epochSeconds } from '../../shared/clock.ts';

interface AuditOptions {
  since: string;
  event?: string;
  subject?: string;
  limit: string;
  json?: boolean;
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('show the audit log (append-only security events)')
    .option('--since <duration>', 'how far back, e.g. 30m, 1h, 2d', '1h')
    .option('--event <name>', `only this event (${auditEvents.join(', ')})`)
    .option('--subject <id>', 'only entries about this subject (user id, client id, serial …)')
    .option('--limit <n>', 'at most this many of the most recent entries', '1000')
    .option('--json', 'print as JSON (with the data of each entry)')
    .action((options: AuditOptions, command: Command) => {
      let window: number;
      try {
        window = parseDuration(options.since);
      } catch {
        throw new CliUsageError(`--since expects a duration like 30m, 1h or 2d, received ${JSON.stringify(options.since)}`);
      }
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new CliUsageError(`--limit expects a whole number from 1 to 100000, received ${JSON.stringify(options.limit)}`);
      if (options.event !== undefined && !(auditEvents as readonly string[]).includes(options.event)) {
        throw new CliUsageError(`--event expects one of ${auditEvents.join(', ')}; received ${JSON.stringify(options.event)}`);
      }
      return withContext(command, async (context) => {
        const records = await context.audit.list({
          since: epochSeconds(context.clock) - Math.ceil(window / 1000),
          limit,
          latest: true,
          ...(options.event === undefined ? {} : { event: options.event as AuditEvent }),
          ...(options.subject === undefined ? {} : { subject: options.subject }),
        });
        if (options.json) return printRows(records as unknown as Array<Record<string, unknown>>, true);
        printRows(records.map((r) => ({ time: new Date(r.at * 1000).toISOString(), event: r.event, actor: r.actor, subject: r.subject, client: r.clientId, ip: r.ip, reason: r.reason })), false);
      });
    });
}
