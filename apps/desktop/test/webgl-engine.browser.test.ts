/**
 * The 'webgl' engine through the renderer path: main's renderer classifier (decode with sharp,
 * top-k) ↔ the typed bridge (played by playwright: page.evaluate for main → renderer,
 * exposeFunction for the replies) ↔ startRendererInference in Debian Chromium, which runs
 * @xception/core on tfjs webgl (SwiftShader here) in the Web Worker, under the app's own CSP.
 * The library service records the results (sidecars, index) as for any engine, and they match
 * the wasm engine in Node on the same seeded weights.
 */
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HAVE_CHROMIUM, launchChromium, SKIP_NO_CHROMIUM } from '@xception/test-kit';
import type { BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuInfo, InferenceReply, WebglModelPayload } from '../src/shared/api.js';
import type { Classification } from '../src/core/classifier.js';
import { createLibraryService } from '../src/core/library-service.js';
import { createRendererClassifier, webglTopK } from '../src/core/renderer-classifier.js';
import { readPhotoSidecar } from '@xception/photo-library';
import { CONTENT_SECURITY_POLICY } from '../src/electron/window-security.js';
import { createEngineClassifier } from '../src/core/engine-classifier.js';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildRenderer } from '../scripts/build.mjs';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';

const skip = HAVE_CHROMIUM ? null : SKIP_NO_CHROMIUM;
const appDir = fileURLToPath(new URL('..', import.meta.url));
const SIZE = 71; // Xception's smallest input: keeps SwiftShader quick
const MODEL: WebglModelPayload = { inputShape: [SIZE, SIZE, 3], weights: null, seed: 11 };

const PAGE = `
import { startRendererInference } from ${JSON.stringify(join(appDir, 'src/renderer/inference/renderer-inference.ts'))};
let listener = null;
const api = {
  reportGpu: async (info) => { window.reportedGpu = info; },
  onInferenceRequest: (l) => { listener = l; return () => { listener = null; }; },
  inferenceReply: async (reply) => {
    const r = reply.ok && reply.result && 'features' in reply.result
      ? { ...reply, result: { probabilities: Array.from(reply.result.probabilities), features: Array.from(reply.result.features) } } : reply;
    await window.xceptionInferenceReply(r);
  },
};
window.deliver = (r) => listener(r.type === 'classify' ? { ...r, pixels: Uint8Array.from(r.pixels) } : r);
window.started = startRendererInference(api, new URL('/inference-worker.js', location.href)).then((x) => ({ gpu: x.gpu, where: x.where }));
`;

describe.skipIf(skip)(`webgl engine in the renderer (Chromium, SwiftShader) ${skip ?? ''}`, () => {
  let server: Server;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    const built = makeTempDir('xception-webgl-renderer-');
    const rendererDir: string = await buildRenderer(built);
    const pageJs = (await build({ stdin: { contents: PAGE, resolveDir: appDir, loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', conditions: ['source'], write: false, logLevel: 'silent' })).outputFiles[0]!.text;
    const files: Record<string, [string, string | Buffer]> = {
      '/index.html': ['text/html', '<!doctype html><meta charset="utf-8"><title>webgl engine</title><script type="module" src="/page.js"></script>'],
      '/page.js': ['text/javascript', pageJs],
      '/inference-worker.js': ['text/javascript', readFileSync(join(rendererDir, 'inference-worker.js'))],
    };
    server = createServer((req, res) => {
      const path = new URL(req.url!, 'http://x').pathname;
      if (path === '/favicon.ico') return void res.writeHead(204).end();
      const file = files[path];
      if (!file) return void res.writeHead(404).end();
      // The app's CSP, as its protocol handler sends it.
      res.writeHead(200, { 'content-type': file[0], 'content-security-policy': CONTENT_SECURITY_POLICY }).end(file[1]);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    profile = makeTempDir('xception-webgl-chromium-');
    context = await launchChromium(profile, { gpu: 'swiftshader' });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${String(e)}`));
    await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/index.html`);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('tags 3 small photos through the renderer path; results match the wasm engine within 1e-4; CSP holds', async () => {
    const photos = makeTempDir('xception-webgl-photos-');
    const colours = [[200, 40, 30], [20, 160, 60], [40, 60, 210]];
    for (const [i, [r, g, b]] of colours.entries()) {
      // A gradient plus a block, so the inputs differ in structure, not only in colour.
      const raw = Buffer.alloc(96 * 80 * 3);
      for (let y = 0; y < 80; y++) for (let x = 0; x < 96; x++) {
        const o = (y * 96 + x) * 3;
        const block = x > 20 + 10 * i && x < 60 && y > 15 && y < 50 ? 80 : 0;
        raw[o] = (r! + x + block) % 256; raw[o + 1] = (g! + y * 2) % 256; raw[o + 2] = (b! + block) % 256;
      }
      await sharp(raw, { raw: { width: 96, height: 80, channels: 3 } }).png().toFile(join(photos, `p${i}.png`));
    }

    const started = (await page.evaluate('window.started')) as { gpu: GpuInfo; where: string };
    const vision = await import('@xception/vision-utils/node');
    const results = new Map<string, Classification>();
    const classifier = createRendererClassifier({
      modelId: 'random-webgl',
      send: (request) => void page.evaluate((r) => (window as unknown as { deliver(r: unknown): void }).deliver(r), request.type === 'classify' ? { ...request, pixels: Array.from(request.pixels) } : request),
      loadModel: async () => MODEL,
      decode: (photo) => vision.loadImage(photo, { size: SIZE }),
      decodePredictions: await webglTopK(),
    });
    await page.exposeFunction('xceptionInferenceReply', (reply: InferenceReply) => classifier.receive(reply));
    const recording = { ...classifier, classify: async (photo: string, k: number) => { const r = await classifier.classify(photo, k); results.set(photo, r); return r; } };

    const t0 = performance.now();
    const service = createLibraryService({ dataDir: makeTempDir('xception-webgl-data-'), createClassifier: async () => recording, onProgress: () => undefined });
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    const webglMs = performance.now() - t0;
    expect(service.progress()).toMatchObject({ state: 'done', done: 3, failed: 0 });
    expect(classifier.backend()).toBe(`webgl (${started.where})`);

    // The same seeded weights on the wasm engine (what the utility process runs), in Node.
    const wasm = createEngineClassifier({ engine: 'wasm', weights: null, imageSize: SIZE, random: { seed: 11 } });
    await wasm.load();
    let probDiff = 0;
    let featureDiff = 0;
    for (const [photo, webgl] of results) {
      const reference = await wasm.classify(photo, 5);
      expect(webgl.predictions.map((p) => p.index)).toEqual(reference.predictions.map((p) => p.index));
      webgl.predictions.forEach((p, i) => (probDiff = Math.max(probDiff, Math.abs(p.score - reference.predictions[i]!.score))));
      webgl.features.forEach((v, i) => (featureDiff = Math.max(featureDiff, Math.abs(v - reference.features[i]!))));
      const sidecar = await readPhotoSidecar(photo);
      expect(sidecar?.app?.model).toBe('random-webgl');
    }
    await wasm.dispose();
    await classifier.dispose();
    await service.dispose();
    console.log(`webgl engine (${started.where}, ${started.gpu.renderer}, realGpu ${started.gpu.realGpu}): 3 photos ${SIZE}x${SIZE} tagged in ${(webglMs / 1000).toFixed(1)} s incl. shader compile; vs wasm: max |diff| ${probDiff.toExponential(2)} on top-5 probabilities, ${featureDiff.toExponential(2)} on pooled features`);
    expect(results.size).toBe(3);
    expect(probDiff).toBeLessThanOrEqual(1e-4);
    expect(featureDiff).toBeLessThanOrEqual(1e-4);
    // SwiftShader is software: reported, and not a real GPU (so 'auto' would not pick webgl).
    expect(started.gpu.webgl).toBe(true);
    expect(started.gpu.renderer).toMatch(/swiftshader/i);
    expect(started.gpu.realGpu).toBe(false);
    expect(await page.evaluate('window.reportedGpu')).toEqual(started.gpu);
    // The worker started under the app's CSP (worker-src 'self', no eval, no connect-src).
    expect(started.where).toBe('worker');
    expect(consoleLines.filter((l) => /Content Security Policy|pageerror|error:/i.test(l))).toEqual([]);
  }, 300_000);
});
