import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

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

/**
 * Stdout for a process that logs a line per request: pino's asynchronous destination
 * (sonic-boom) writing 32 KiB at a time, or every 100 ms. Handed to it one string at a time with
 * no minimum, it started a write on the thread pool for nearly every line (and in its text mode
 * it measures its whole pending buffer again on each line): in the gateway that was a quarter of
 * a request's CPU time. Lines go in as Buffers (its buffer mode keeps their lengths instead).
 * `logger.flush(cb)` writes everything and calls back; at exit pino writes the rest synchronously.
 */
function batchedStdout(): DestinationStream & { flush(cb?: (error?: Error) => void): void } {
  const stream = pino.destination({ dest: 1, sync: false, contentMode: 'buffer', minLength: 32 * 1024, maxWrite: 64 * 1024, periodicFlush: 100 });
  const writeBuffer = stream.write.bind(stream) as unknown as (line: Buffer) => boolean;
  return {
    write: (line: string) => writeBuffer(Buffer.from(line)),
    flush: (cb) => stream.flush(cb),
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
