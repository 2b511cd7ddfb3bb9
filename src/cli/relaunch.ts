/**
 * `gatehouse serve gateway` runs with V8's memory reducer off. The reducer shrinks the heap once
 * the allocation rate drops (a quiet spell between bursts of load). After it the old generation's
 * limit sits just above the live size, and under the next load full collections follow one
 * another every few seconds, each with incremental marking that slows every request while it
 * runs: in the gateway bench a request cost 52–59 µs of CPU from then on instead of 45–50
 * (`--trace-gc`: `Mark-Compact (reduce) 131 → 48 MB`, then six mark-compacts in 8 s).
 *
 * V8 makes the reducer when it sets up the heap, so the flag has to be on Node's command line
 * (`v8.setFlagsFromString` comes too late; NODE_OPTIONS refuses it): the process executes itself
 * again with it — execve(2): same pid, stdio and signals. That is decided here, from the raw
 * arguments, before the CLI loads any of its modules: from the command's action the first
 * process loaded the whole CLI (≈ 1 s) only to throw it away. The price: an idle gateway keeps
 * the heap it grew under load until its next collection. `node --memory-reducer …` keeps the
 * reducer; where execve is missing (Windows) it stays on.
 */

/** The root options that take a value (./gatehouse.ts declares them): their values are not command words. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['-c', '--config', '-d', '--data-dir']);

/** The command words of a command line, options and option values left out: `-c x serve gateway` → serve, gateway. */
export function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
  }
  return words;
}

export function relaunchGatewayWithoutMemoryReducer(): void {
  const [command, component] = commandWords(process.argv.slice(2));
  if (command !== 'serve' || component !== 'gateway') return;
  if (process.execArgv.some((arg) => arg === '--no-memory-reducer' || arg === '--memory-reducer')) return;
  if (typeof process.execve !== 'function') return;
  process.execve(process.execPath, [process.execPath, '--no-memory-reducer', ...process.execArgv, ...process.argv.slice(1)], process.env);
}
