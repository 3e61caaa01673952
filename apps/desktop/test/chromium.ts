import { existsSync } from 'node:fs';
import type { BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt-get install -y chromium), driven by playwright-core; never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const SKIP_NO_CHROMIUM = existsSync(CHROMIUM) ? null : 'skipped: Debian Chromium is not installed (apt-get install -y chromium)';

/** Flags that keep a test browser off the network: no background fetches, updates, sync or QUIC. */
export const QUIET_CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** A headless Chromium with its own profile folder, 1400x900, without GPU. */
export async function launchChromium(profile: string): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [...QUIET_CHROMIUM_ARGS, '--disable-gpu'],
  });
}
