/** How a Gatehouse process (the CLI, the demo) stops: gracefully on a signal, or with one line on stderr on failure. */
import { ConfigError } from './config/index.ts';
import { isGatehouseError } from './shared/errors.ts';

/** Graceful stop on SIGINT/SIGTERM: finish in-flight requests, close the store; a second signal exits at once. */
export function stopOnSignal(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * The one line a failed start prints (never a stack trace), and its exit code: 2 for an invalid
 * configuration (every key path at fault on that line), 1 otherwise.
 */
export function failureLine(error: unknown): { line: string; code: number } {
  if (error instanceof ConfigError) {
    return { line: `gatehouse: ${error.message.split('\n')[0]} ${error.issues.map((issue) => issue.replace(/\s+/g, ' ')).join('; ')}`, code: 2 };
  }
  if (isGatehouseError(error)) return { line: `gatehouse: ${error.description.replace(/\s+/g, ' ')} (${error.code})`, code: 1 };
  const message = error instanceof Error ? error.message : String(error);
  return { line: `gatehouse: ${message.split('\n')[0] || 'failed'}`, code: 1 };
}

export function exitWithFailure(error: unknown): never {
  const { line, code } = failureLine(error);
  console.error(line);
  process.exit(code);
}
