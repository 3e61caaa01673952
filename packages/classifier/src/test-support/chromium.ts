import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); browser tests skip with a message without it. */
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const SKIP_NO_CHROMIUM = 'skipped: /usr/bin/chromium is absent (apt-get install chromium); it runs the browser classifier';

/** A headless Chromium with a fresh profile in `dir`; webgl runs on SwiftShader (software GL). `args` are added to the command line. */
export function launchChromium(dir: string, args: string[] = []): Promise<BrowserContext> {
  return chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', ...args],
  });
}
