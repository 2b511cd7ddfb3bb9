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
  /** Write JSON lines to stdout asynchronously (the gateway's access log must not wait for the terminal or disk); call `logger.flush()` before exiting. */
  asyncStdout?: boolean;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = {
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'gatehouse' },
  };
  if (options.destination) return pino(base, options.destination);
  const usePretty = options.pretty ?? Boolean(process.stdout.isTTY);
  if (options.asyncStdout && !usePretty) return pino(base, pino.destination({ dest: 1, sync: false }));
  if (usePretty) {
    return pino(base, pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'HH:MM:ss', ignore: 'pid,hostname,service', sync: true }));
  }
  return pino(base);
}

/** A logger that writes nothing (tests, CLI commands that only print results). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
