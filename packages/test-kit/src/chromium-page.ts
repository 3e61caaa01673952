import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// esbuild and playwright-core load on first use: most tests import this index and need neither.
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';
import { startStaticServer, type StaticServer } from './static-server.js';

export interface BrowserBundle {
  text: string;
  /** Imports esbuild left external (none for a browser build that resolved everything). */
  externals: string[];
}

/**
 * Bundles `code` (an ES module) for browsers as an app's bundler would: esbuild,
 * platform 'browser' (the packages' `browser` export conditions, no Node built-ins: an import of
 * one fails the build), imports resolved from `resolveDir`.
 */
export async function bundleForBrowser(code: string, resolveDir: string): Promise<BrowserBundle> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    stdin: { contents: code, resolveDir, loader: 'js' },
    bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', write: false, metafile: true, logLevel: 'silent',
  });
  const externals = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path));
  return { text: result.outputFiles[0]!.text, externals };
}

export interface ChromiumSession {
  context: BrowserContext;
  page: Page;
  server: StaticServer;
  /** Page errors and console errors seen so far. */
  errors: string[];
  /** console.log lines of the page, in order. */
  logs: string[];
  /**
   * Serves `bundle` and imports it into the page (top-level await included); resolves once it has
   * run, with the error it threw, if any.
   */
  runModule(bundle: string): Promise<{ ok: true } | { ok: false; error: string }>;
  close(): Promise<void>;
}

/**
 * One headless Chromium for a test file, with a blank page served from a static server on
 * 127.0.0.1 rooted at `root` (so a page's relative URLs reach the files there).
 */
export async function openChromium(root: string): Promise<ChromiumSession> {
  const profile = mkdtempSync(join(tmpdir(), 'xception-chromium-'));
  const server = await startStaticServer({
    root,
    files: { '/__page/index.html': { type: 'text/html', body: '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>xception test</title><body></body>' } },
  });
  const context = await launchChromium(profile);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  const logs: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => (m.type() === 'error' ? errors.push(m.text()) : logs.push(m.text())));
  await page.goto(`${server.url}/__page/index.html`);
  let modules = 0;
  return {
    context, page, server, errors, logs,
    async runModule(bundle) {
      const path = `/__page/module-${++modules}.js`;
      server.files.set(path, { type: 'text/javascript', body: bundle });
      // A string, not a function: vitest rewrites import() inside functions it transforms.
      const url = JSON.stringify(`${server.url}${path}`);
      return page.evaluate(`import(${url}).then(() => ({ ok: true }), (e) => ({ ok: false, error: String(e?.stack ?? e) }))`) as Promise<{ ok: true } | { ok: false; error: string }>;
    },
    async close() {
      await context.close();
      await server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
