import { existsSync } from 'node:fs';
// playwright-core loads on first launch: most tests import the kit's index and never need it.
import type { BrowserContext } from 'playwright-core';

/**
 * Debian's Chromium (apt-get install chromium), driven by playwright-core; never a downloaded
 * browser. The one place in the workspace that names its path and its launch flags.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const SKIP_NO_CHROMIUM = `skipped: ${CHROMIUM} is absent (apt-get install chromium)`;

/** Flags that keep a test browser off the network: no background fetches, updates, sync or QUIC. */
export const QUIET_CHROMIUM_ARGS: readonly string[] = [
  '--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

/** WebGL on SwiftShader, Chromium's software GL, standing in for a GPU on machines without one. */
export const SWIFTSHADER_ARGS: readonly string[] = ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'];

export interface ChromiumLaunchOptions {
  /** 'swiftshader' runs WebGL in software; 'none' disables the GPU (pages that need no WebGL). Default: no GPU flag. */
  gpu?: 'swiftshader' | 'none';
  /** Added after the quiet flags, e.g. '--host-resolver-rules=...'. */
  args?: readonly string[];
  viewport?: { width: number; height: number };
}

/** A headless Debian Chromium with its own profile folder `profile` (created if absent). */
export async function launchChromium(profile: string, options: ChromiumLaunchOptions = {}): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const gpuArgs = options.gpu === 'swiftshader' ? SWIFTSHADER_ARGS : options.gpu === 'none' ? ['--disable-gpu'] : [];
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ...(options.viewport ? { viewport: options.viewport } : {}),
    args: [...QUIET_CHROMIUM_ARGS, ...gpuArgs, ...(options.args ?? [])],
  });
}
