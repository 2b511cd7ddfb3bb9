/**
 * A listener's stop, bounded. `server.close()` stops accepting and closes the connections that are
 * idle at that moment; a kept-alive connection whose request ends later would stay open until its
 * keep-alive timeout, and a request that never ends (a long download, an upload that stalls, an
 * event stream) would hold the stop for ever. While `close` runs, connections that went idle are
 * closed every 100 ms, and after `seconds` every connection left is cut, with a warning in the
 * log. Used by the gateway and by the Security Service's listeners.
 */
import type { Server } from 'node:http';
import type { Logger } from './logger.ts';

const IDLE_SWEEP_MS = 100;

export async function closeWithin(server: Server, seconds: number, close: () => Promise<void>, logger: Logger): Promise<void> {
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const deadline = setTimeout(() => {
    logger.warn({ shutdownTimeout: seconds }, 'in-flight requests outlived the shutdown timeout; their connections are cut');
    server.closeAllConnections();
  }, seconds * 1000);
  try {
    await close();
  } finally {
    clearInterval(sweep);
    clearTimeout(deadline);
  }
}
