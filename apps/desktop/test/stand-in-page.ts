import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@xception/test-kit';
import { build } from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import type { StandInData } from './stand-in-bridge.js';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildRenderer } from '../scripts/build.mjs';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** The renderer as built for the app, served on loopback with a stand-in bridge, in Debian Chromium. */
export interface StandInPage {
  /** The server's address, http://127.0.0.1:port. */
  readonly base: string;
  /** Every URL the pages asked for, and every console error and page error they gave. */
  readonly requests: string[];
  readonly consoleErrors: string[];
  /** A new page with `data` behind window.xception, once the app says it is ready. */
  open(data: StandInData): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Builds the renderer, serves it with the photos of `photosDir` whose names are in `photoNames`
 * under /photos/ (read in place, never copied), and launches Chromium without a GPU.
 */
export async function startStandInPage(photosDir: string, photoNames: Iterable<string>): Promise<StandInPage> {
  const rendererDir: string = await buildRenderer(makeTempDir('xception-renderer-'));
  const bridge = await build({ entryPoints: [join(appDir, 'test', 'stand-in-bridge.ts')], bundle: true, format: 'iife', write: false, platform: 'browser', target: 'chrome120' });
  const bridgeScript = bridge.outputFiles[0]!.text;
  const names = new Set(photoNames);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const file = path === '/' || path === '/index.html' ? join(rendererDir, 'index.html')
      : ['/app.js', '/styles.css', '/app.js.map'].includes(path) ? join(rendererDir, path.slice(1))
        : path.startsWith('/photos/') && names.has(path.slice(8)) ? join(photosDir, path.slice(8)) : null;
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'image/jpeg' }).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const profile = makeTempDir('xception-chromium-');
  const context: BrowserContext = await launchChromium(profile, { gpu: 'none', viewport: { width: 1400, height: 900 } });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  return {
    base,
    requests,
    consoleErrors,
    async open(data) {
      const page = await context.newPage();
      page.on('request', (r) => requests.push(r.url()));
      page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
      page.on('pageerror', (e) => consoleErrors.push(e.message));
      await page.addInitScript({ content: `window.__standIn = ${JSON.stringify(data)};\n${bridgeScript}` });
      await page.goto(`${base}/`);
      await page.waitForSelector('body[data-ready="true"]');
      return page;
    },
    async close() {
      await context.close();
      server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
