import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { writeSync } from 'node:fs';

export type { Logger };

/**
 * Paths that may carry secrets; pino replaces them before anything is written.
 * Request logs never include bodies; these catch secrets passed in structured fields.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.client_secret',
  '*.clientSecret',
  '*.secret',
  '*.token',
  '*.joinToken',
  '*.refresh_token',
  '*.access_token',
  '*.privateKey',
  'password',
  'secret',
];

export interface LoggerOptions {
  level: string;
  pretty?: boolean | undefined;
  /** Where JSON lines go instead of stdout (tests capture the log this way). */
  destination?: DestinationStream;
  /** Write JSON lines to stdout asynchronously, in batches (the gateway's access log must not wait for the terminal or disk); call `logger.flush()` before exiting. */
  asyncStdout?: boolean;
}

/** A batch of lines goes out at this size, or this long after its first line. */
const BATCH_BYTES = 32 * 1024;
const BATCH_DELAY_MS = 100;

/**
 * Stdout for a process that logs a line per request: lines are joined into batches of 32 KiB
 * (or whatever came within 100 ms) and each batch is one write of pino's asynchronous destination
 * (sonic-boom). Handed one line at a time, sonic-boom started a write on the thread pool for
 * nearly every line and measured its whole pending text again on each one: in the gateway that
 * was a quarter of a request's CPU time. `logger.flush(cb)` writes everything and calls back; at
 * exit what is left is written synchronously (after whatever sonic-boom still held).
 */
function batchedStdout(): DestinationStream & { flush(cb?: (error?: Error) => void): void } {
  // minLength 1 writes as 0 would (a batch as soon as it comes), but makes flush(cb) wait for the write in flight.
  const stream = pino.destination({ dest: 1, sync: false, minLength: 1 });
  let lines: string[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = (): string => {
    const batch = lines.join('');
    lines = [];
    bytes = 0;
    return batch;
  };
  const drain = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (lines.length !== 0) stream.write(take());
  };
  process.once('exit', () => {
    try {
      stream.flushSync();
      if (lines.length !== 0) writeSync(1, take());
    } catch {
      // stdout is gone (closed, EPIPE) or would block: nothing more can be written at exit.
    }
  });
  return {
    write(line: string) {
      lines.push(line);
      bytes += line.length;
      if (bytes >= BATCH_BYTES) drain();
      else timer ??= setTimeout(drain, BATCH_DELAY_MS).unref();
    },
    flush(cb) {
      drain();
      stream.flush(cb);
    },
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'gatehouse' },
  };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (options.asyncStdout && !usePretty) return pino(base, batchedStdout());
  if (usePretty) {
    return pino(base, pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service', sync: true }));
  }
  return pino(base);
}

/** A logger that writes nothing (tests, CLI commands that only print results). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * Writes lines whose fields the caller serialized itself into `logger`'s destination, framed as
 * pino frames its own lines (`{"level":30,"time":…,<bindings>,<fields>,"msg":…}`; the loggers
 * made here keep pino's default level, time and message formats). For a line written per request
 * whose few fields are known (the gateway's access log), where pino's general formatting is most
 * of the line's cost. Nothing is redacted: `fields` must hold only values the caller knows to be
 * safe. `fields` is JSON members each with its leading comma (`,"name":value…`).
 * Lines are dropped while `logger` is above `info`.
 */
export function infoLineWriter(logger: Logger, msg: string): (fields: string) => void {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym]!;
  const bindings = (logger as unknown as Record<symbol, string>)[pino.symbols.chindingsSym]!;
  const tail = `,"msg":${JSON.stringify(msg)}}\n`;
  const info = logger.levels.values.info!;
  return (fields) => {
    if (logger.levelVal > info) return;
    stream.write(`{"level":${info},"time":${Date.now()}${bindings}${fields}${tail}`);
  };
}
