import type { Command } from 'commander';
import { withContext, printRows, CliUsageError } from '../program.ts';
import { auditEvents, type AuditEvent, type AuditRecord } from '../../events/index.ts';
import type { UserService } from '../../identity/index.ts';
import { isGatehouseError } from '../../shared/errors.ts';
import { parseDuration, epochSeconds } from '../../shared/clock.ts';

interface AuditOptions {
  since: string;
  event?: string;
  subject?: string;
  limit: string;
  json?: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Long identifiers (serials, key ids, unknown UUIDs) shortened for the table; --json has them whole. */
function short(value: string, keep = 12): string {
  return value.length > keep + 1 ? `${value.slice(0, keep)}…` : value;
}

/** Usernames for the user ids in `records` (actors `user:<id>` and subjects), looked up once each. */
async function usernames(users: UserService, records: AuditRecord[]): Promise<Map<string, string>> {
  const ids = new Set<string>();
  for (const record of records) {
    if (record.actor?.startsWith('user:')) ids.add(record.actor.slice('user:'.length));
    if (record.subject && UUID.test(record.subject)) ids.add(record.subject);
  }
  const names = new Map<string, string>();
  for (const id of ids) {
    const user = UUID.test(id) ? await users.findById(id) : undefined;
    if (user) names.set(id, user.username);
  }
  return names;
}

/** `--subject alice`: a username stands for that user's id; anything else (an id, a client, a serial) as given. */
async function subjectKey(users: UserService, subject: string): Promise<string> {
  try {
    return (await users.find(subject)).id;
  } catch (error) {
    if (isGatehouseError(error) && error.code === 'not_found') return subject;
    throw error;
  }
}

/** One table row, narrow enough for a 100-column terminal: names for user ids, short ids, UTC time to the second. */
function tableRow(record: AuditRecord, names: Map<string, string>): Record<string, unknown> {
  const name = (id: string) => names.get(id) ?? short(id, 8);
  const actor = record.actor?.startsWith('user:') ? `user:${name(record.actor.slice('user:'.length))}` : record.actor;
  const subject = record.subject === null ? null : UUID.test(record.subject) ? name(record.subject) : short(record.subject, 20);
  return { 'time (utc)': new Date(record.at * 1000).toISOString().slice(5, 19).replace('T', ' '), event: record.event, actor, subject, client: record.clientId, reason: record.reason };
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('show the audit log (append-only security events); --json for every field (ip, data, full ids)')
    .option('--since <duration>', 'how far back: 90 (seconds), 30m, 1h, 2d', '1h')
    .option('--event <name>', `only this event (${auditEvents.join(', ')})`)
    .option('--subject <name-or-id>', 'only entries about this subject: a username, user id, client id, certificate serial …')
    .option('--limit <n>', 'at most this many of the most recent entries', '1000')
    .option('--json', 'print as JSON (with the data of each entry)')
    .action((options: AuditOptions, command: Command) => {
      let window: number;
      try {
        window = parseDuration(options.since);
      } catch {
        throw new CliUsageError(`--since expects a duration like 90 (seconds), 30m, 1h or 2d, received ${JSON.stringify(options.since)}`);
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
          ...(options.subject === undefined ? {} : { subject: await subjectKey(context.users, options.subject) }),
        });
        if (options.json) return printRows(records as unknown as Array<Record<string, unknown>>, true);
        const names = await usernames(context.users, records);
        printRows(records.map((record) => tableRow(record, names)), false);
      });
    });
}
