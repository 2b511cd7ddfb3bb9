/**
 * The real browser the page tests drive: Debian's Chromium through playwright-core, started the
 * way this machine kind allows (no sandbox as root; no background networking, whose connections
 * the closed network refuses). `.ci/run` installs it; outside CI a machine without it skips the
 * browser tests and says why, on CI they fail.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `skip` for node:test: false, or why the browser tests cannot run here. */
export const chromiumSkip: false | string = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}

/** A client's redirect URI the browser can land on (it answers "callback reached"); `close` when done. */
export async function callbackServer(): Promise<{ url: string; close(): void }> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }).end('callback reached'); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`, close: () => server.close() };
}
