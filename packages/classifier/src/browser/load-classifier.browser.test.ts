import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { haveChromium, launchChromium, SKIP_NO_CHROMIUM } from '../test-support/chromium.js';
import { runCli, SIZE, sharedPhotos, writeSeededArtifacts, type CliTopRow } from '../test-support/fixtures.js';
import { startStaticServer, type StaticServer } from '../test-support/static-server.js';

/**
 * The browser entry in Debian Chromium, from a page bundled by esbuild (platform browser: a Node
 * built-in anywhere in the graph fails the build): a model folder served from 127.0.0.1 (tfjs
 * artifacts of seeded 71x71 weights), every browser input kind, the same top-5 as `xception
 * classify` on the same PNG, no tensor left behind, and a second visit served from Cache Storage.
 */
const photos = sharedPhotos();
const skip = !haveChromium ? SKIP_NO_CHROMIUM : !photos ? 'skipped: ../shared photos are absent' : null;
if (skip) console.warn(skip);

/** The README's browser example, made to run here: this server's paths, and wasm (webgl on SwiftShader takes minutes). */
function readmeBrowserExample(): { imports: string; body: string } {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)][1]![1]!;
  const [imports, ...rest] = block.split('\n');
  const body = rest.join('\n')
    .replace("weights: '/models/xception/model.json', wasmPaths: '/tfjs-wasm/'", "weights: '/web/model.json', wasmPaths: '/wasm/', backend: 'wasm'");
  if (!imports!.startsWith("import { loadClassifier } from '@xception/classifier';") || !body.includes("backend: 'wasm'")) throw new Error('the README\'s browser example changed; update this test');
  return { imports: imports!, body };
}
const readme = readmeBrowserExample();

const PAGE_SCRIPT = `
import * as tf from '@tensorflow/tfjs-core';
import { ClassifierError } from '@xception/classifier';
${readme.imports}

window.runReadme = async () => {
  await document.querySelector('img').decode();
  ${readme.body}
  return top5;
};

window.runClassifier = async (backend) => {
  const before = tf.engine().state.numTensors;
  const progress = [];
  const classifier = await loadClassifier({ weights: '/web/model.json', backend, wasmPaths: '/wasm/', onProgress: (e) => progress.push(e.phase) });
  const img = new Image();
  img.src = '/photo.png';
  await img.decode();
  const blob = await (await fetch('/photo.png')).blob();
  const bitmap = await createImageBitmap(blob);
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  canvas.getContext('2d').drawImage(img, 0, 0);
  const imageData = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
  const tops = await classifier.classify(['/photo.png', img, bitmap, canvas, imageData, blob, await blob.arrayBuffer()], { topK: 5 });
  const features = await classifier.embed(img);
  let inputError = null;
  await classifier.classify(new Blob(['not a photo'])).catch((e) => { inputError = e instanceof ClassifierError ? e.code : String(e); });
  const engine = classifier.engine;
  await classifier.dispose();
  const leaked = tf.engine().state.numTensors - before;
  const failure = (options) => loadClassifier(options).then(() => 'loaded', (e) => (e instanceof ClassifierError ? e.code + ': ' + e.message : String(e)));
  const loadErrors = [
    await failure({ weights: '/nowhere/model.json', backend, wasmPaths: '/wasm/' }),
    await failure({ weights: 'imagenet' }),
  ];
  return { tops, features: features.length, engine, leaked, progress: [...new Set(progress)], inputError, loadErrors };
};
`;

describe.skipIf(skip !== null)('loadClassifier in Chromium (bundled page, model folder on 127.0.0.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-classifier-browser-'));
  let server: StaticServer;
  let context: BrowserContext;
  let page: Page;
  let cli: CliTopRow['top'];
  const modelHits = (): number => server.hits.filter((h) => h.startsWith('/web/')).length;

  beforeAll(async () => {
    const { modelJson } = await writeSeededArtifacts(join(dir, 'web'));
    const png = join(dir, 'photo.png');
    await sharp(photos![4]!).resize(SIZE, SIZE, { fit: 'fill' }).png().toFile(png);
    const [rows, bundle] = await Promise.all([
      runCli<CliTopRow>('classify', [png], modelJson, join(dir, 'top.jsonl'), join(dir, 'home')),
      esbuild.build({
        stdin: { contents: PAGE_SCRIPT, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'js' },
        bundle: true, format: 'esm', platform: 'browser', conditions: ['source'], write: false, logLevel: 'silent', metafile: true,
      }),
      startStaticServer({ 'cache-control': 'no-store' }).then((s) => { server = s; }),
    ]);
    cli = rows.get(png)!.top;
    const inputs = Object.keys(bundle.metafile!.inputs);
    // What a bundler gets through the "browser" condition: the browser entry, and no Node decoder or runtime.
    expect(inputs.some((i) => i.includes('classifier/src/browser/load-classifier.ts'))).toBe(true);
    expect(inputs.filter((i) => /classifier\/src\/node\/|sharp|onnxruntime|h5wasm|@xception\/engines|engines\/src/.test(i))).toEqual([]);
    server.files.set('/', { body: '<!doctype html><title>xception classifier</title><script type="module" src="/bundle.js"></script><img src="/photo.png">', type: 'text/html' });
    server.files.set('/bundle.js', { body: bundle.outputFiles[0]!.text, type: 'text/javascript' });
    server.files.set('/photo.png', { body: readFileSync(png), type: 'image/png' });
    for (const f of readdirSync(join(dir, 'web'))) server.files.set(`/web/${f}`, { body: readFileSync(join(dir, 'web', f)), type: f.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
    for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) server.files.set(`/wasm/${f}`, { body: readFileSync(join(wasmDir, f)), type: 'application/wasm' });
    context = await launchChromium(dir);
    page = context.pages()[0] ?? (await context.newPage());
  });
  afterAll(async () => {
    await context?.close();
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (backend: string): Promise<{ tops: CliTopRow['top'][]; features: number; engine: string; leaked: number; progress: string[]; inputError: string | null; loadErrors: string[] }> => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.warn(`page: ${m.text()}`); });
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof (window as unknown as { runClassifier?: unknown }).runClassifier === 'function');
    const r = await page.evaluate((b) => (window as unknown as { runClassifier: (b: string) => Promise<never> }).runClassifier(b), backend);
    expect(errors).toEqual([]);
    return r;
  };

  const expectCliTop = (top: CliTopRow['top'], tolerance: number): void => {
    expect(top.map((c) => [c.index, c.wnid, c.label])).toEqual(cli.map((c) => [c.index, c.wnid, c.label]));
    top.forEach((c, i) => expect(Math.abs(c.score - cli[i]!.score)).toBeLessThanOrEqual(tolerance));
  };

  test('first visit (wasm): the same top-5 as `xception classify` for a URL, <img>, ImageBitmap, canvas, ImageData, Blob and ArrayBuffer; no leak', async () => {
    const r = await run('wasm');
    expect(r.engine).toBe('tfjs wasm');
    expect(r.tops).toHaveLength(7);
    for (const top of r.tops) expectCliTop(top, 1e-5);
    expect(r.features).toBe(2048);
    expect(r.leaked).toBe(0);
    expect(r.inputError).toBe('ERR_CLASSIFIER_INPUT');
    expect(r.progress).toEqual(['download', 'done']);
    expect(r.loadErrors[0]).toBe(`ERR_CLASSIFIER_WEIGHTS: weights: ${server.url}/nowhere/model.json answered HTTP 404; check the address of the model folder.`);
    expect(r.loadErrors[1]).toMatch(/^ERR_CLASSIFIER_OPTIONS: loadClassifier: weights: 'imagenet' is downloaded and converted in Node only; run `xception weights convert imagenet --to web <folder>`/);
    expect(modelHits()).toBeGreaterThanOrEqual(2); // model.json and its shards
  });

  test("second visit, the README's browser example: the model folder comes from Cache Storage, nothing is downloaded", async () => {
    const before = modelHits();
    await page.goto(`${server.url}/`);
    await page.waitForFunction(() => typeof (window as unknown as { runReadme?: unknown }).runReadme === 'function');
    const top5 = await page.evaluate(() => (window as unknown as { runReadme: () => Promise<CliTopRow['top']> }).runReadme());
    expect(modelHits() - before).toBe(0);
    expectCliTop(top5, 1e-5);
  });
});
