/**
 * The real browser the page tests drive: Debian's Chromium through playwright-core, started the
 * way this machine kind allows (no sandbox as root; no background networking, whose connections
 * the closed network refuses). `.ci/run` installs it; outside CI a machine without it skips the
 * browser tests and says why, on CI they fail.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `skip` for node:test: false, or why the browser tests cannot run here. */
export const chromiumSkip: false | string = existsSync(CHROMIUM) || process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}
