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

/**
 * A batch of lines goes out at this size, or this long after its first line. Each write into a
 * file has a cost of its own beyond its bytes: with 32 KiB batches (≈ 120 access-log lines) the
 * gateway spent 2–4 µs more CPU per request than with 256 KiB ones (`npm run bench -- gateway`,
 * the two side by side, log to a file); into a pipe the size made no difference.
 */
const BATCH_BYTES = 256 * 1024;
const BATCH_DELAY_MS = 100;
/** Lines are encoded into buffers of this size; a batch is handed over when it passes BATCH_BYTES. */
const CHUNK_BYTES = 2 * BATCH_BYTES;

/**
 * An asynchronous JSON-lines destination for a process that logs a line per request: each line is
 * encoded (UTF-8) into a buffer as it comes, and a buffer goes out in one write of pino's
 * asynchronous destination (sonic-boom, in buffer mode) once it holds 256 KiB, or 100 ms after its
 * first line. Handed one string at a time, sonic-boom started a write on the thread pool for
 * nearly every line and measured its whole pending text again on each one (a quarter of a gateway
 * request's CPU time); handed joined strings, it still measured and re-encoded each batch.
 * `flush(cb)` writes everything and calls back; at exit what is left is written synchronously.
 */
export function batchedDestination(fd: number): DestinationStream & { flush(cb?: (error?: Error) => void): void } {
  // minLength 1 writes as 0 would (a batch as soon as it comes), but makes flush(cb) wait for the write in flight.
  const stream = pino.destination({ dest: fd, sync: false, minLength: 1, contentMode: 'buffer' } as Parameters<typeof pino.destination>[0]);
  let chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = (): Buffer => {
    const batch = chunk.subarray(0, used);
    chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    return batch;
  };
  const drain = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (used !== 0) stream.write(take() as unknown as string);
  };
  process.once('exit', () => {
    try {
      stream.flushSync();
      if (used !== 0) writeSync(fd, take());
    } catch {
      // the destination is gone (closed, EPIPE) or would block: nothing more can be written at exit.
    }
  });
  return {
    write(line: string) {
      // A UTF-16 code unit is at most 3 bytes of UTF-8: with that much room the line always fits whole.
      if (used + line.length * 3 > CHUNK_BYTES) {
        drain();
        if (line.length * 3 > CHUNK_BYTES) {
          stream.write(Buffer.from(line, 'utf8') as unknown as string);
          return;
        }
      }
      used += chunk.write(line, used);
      if (used >= BATCH_BYTES) drain();
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
  if (options.asyncStdout && !usePretty) return pino(base, batchedDestination(1));
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
