#!/usr/bin/env node
// ms/image of @xception/classifier in Debian Chromium, on tfjs' webgl (here SwiftShader, a
// software GL: correctness only) and wasm backends, against tfjs-layers' loadLayersModel on
// the same model folder (seeded weights; ImageNet's cannot be downloaded here). Both run the
// same images on the same backend in one page; the classifier's time includes decoding each
// ImageData (as a page does), tfjs-layers' starts from the ready float tensor.
//
//   node packages/classifier/bench/browser-bench.mjs [--size 299] [--images 4] [--runs 3] [--backends wasm]
//
// `pnpm bench` runs it with the defaults: wasm at 299x299. webgl on this machine's SwiftShader
// takes ~9 s/image at 299, so it is opt-in and checks correctness only: --backends wasm,webgl --size 71.
// Writes bench/results/classifier-browser.json at the repo root.
//
// Needs `turbo run build` (the model folder is written by the built packages, Chromium launched by the
// built @xception/test-kit) and /usr/bin/chromium.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { launchChromium } from '@xception/test-kit';
import { writeSeededModelFolder } from '../scripts/seeded-model-folder.mjs';

const { values: args } = parseArgs({ options: {
  size: { type: 'string', default: '299' }, images: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' }, backends: { type: 'string', default: 'wasm' },
} });
const size = Number(args.size);
const here = dirname(fileURLToPath(import.meta.url));

const PAGE = `
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { loadClassifier } from '@xception/classifier';

// Reads each body as its response arrives: tfjs' loader over HTTP/1.1 stalls at 6 shards otherwise.
const fetchFunc = async (url, init) => { const r = await fetch(url, init); return new Response(await r.arrayBuffer(), { status: r.status, headers: r.headers }); };
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

window.bench = async ({ backend, size, images, runs }) => {
  const pictures = Array.from({ length: images }, (_, k) => {
    const data = new Uint8ClampedArray(size * size * 4);
    for (let i = 0; i < data.length; i++) data[i] = i % 4 === 3 ? 255 : (i * 7 + k * 31) % 256;
    return new ImageData(data, size, size);
  });
  const t0 = performance.now();
  const classifier = await loadClassifier({ weights: '/web/model.json', backend, wasmPaths: '/wasm/', cache: false, batchSize: images });
  const loadMs = performance.now() - t0;
  const ours = await classifier.classify(pictures, { topK: 1 }); // warm-up (shaders, wasm)
  const times = [];
  for (let r = 0; r < runs; r++) { const t = performance.now(); await classifier.classify(pictures, { topK: 1 }); times.push((performance.now() - t) / images); }
  await classifier.dispose();

  const t1 = performance.now();
  const model = await tfl.loadLayersModel(tf.io.http('/web/model.json', { fetchFunc }));
  const layersLoadMs = performance.now() - t1;
  const pixels = new Float32Array(images * size * size * 3);
  pictures.forEach((p, k) => { for (let i = 0, j = k * size * size * 3; i < p.data.length; i += 4) { pixels[j++] = p.data[i] / 127.5 - 1; pixels[j++] = p.data[i + 1] / 127.5 - 1; pixels[j++] = p.data[i + 2] / 127.5 - 1; } });
  const x = tf.tensor4d(pixels, [images, size, size, 3]);
  const run = async () => { const y = model.predict(x); const d = await y.data(); y.dispose(); return d; };
  const theirs = await run();
  const layersTimes = [];
  for (let r = 0; r < runs; r++) { const t = performance.now(); await run(); layersTimes.push((performance.now() - t) / images); }
  x.dispose();
  model.dispose();
  // Agreement: the classifier's top-1 index and score against tfjs-layers' probabilities.
  let sameTop = 0, maxDiff = 0;
  ours.forEach((top, k) => {
    const row = theirs.subarray(k * 1000, (k + 1) * 1000);
    const best = row.indexOf(Math.max(...row));
    if (best === top[0].index) sameTop++;
    maxDiff = Math.max(maxDiff, Math.abs(row[top[0].index] - top[0].score));
  });
  return { backend: tf.getBackend(), loadMs, msPerImage: median(times), layersLoadMs, layersMsPerImage: median(layersTimes), sameTop, maxDiff };
};
`;

const work = mkdtempSync(join(tmpdir(), 'xception-browser-bench-'));
const server = http.createServer();
try {
  await writeSeededModelFolder(join(work, 'web'), size);
  const bundle = await esbuild.build({ stdin: { contents: PAGE, resolveDir: here, loader: 'js' }, bundle: true, format: 'esm', platform: 'browser', conditions: ['source'], write: false, logLevel: 'silent' });
  const wasmDir = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  const files = new Map([
    ['/', ['text/html', '<!doctype html><title>bench</title><script type="module" src="/bundle.js"></script>']],
    ['/bundle.js', ['text/javascript', bundle.outputFiles[0].text]],
    ...readdirSync(join(work, 'web')).map((f) => [`/web/${f}`, ['application/octet-stream', readFileSync(join(work, 'web', f))]]),
    ...readdirSync(wasmDir).filter((f) => f.endsWith('.wasm')).map((f) => [`/wasm/${f}`, ['application/wasm', readFileSync(join(wasmDir, f))]]),
  ]);
  server.on('request', (req, res) => {
    const file = files.get(new URL(req.url, 'http://x').pathname);
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0] }).end(file[1]);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/`;
  const context = await launchChromium(join(work, 'profile'), { gpu: 'swiftshader' });
  try {
    console.log(`Chromium, ${size}x${size}, ${args.images} images per batch, median of ${args.runs} runs (seeded weights)`);
    console.log('| backend | classifier ms/image | tfjs-layers ms/image | ratio | classifier load ms | layers load ms | same top-1 | max |score diff| |');
    console.log('|---|---|---|---|---|---|---|---|');
    const rows = [];
    for (const backend of args.backends.split(',')) {
      const page = await context.newPage();
      await page.goto(url);
      await page.waitForFunction(() => typeof window.bench === 'function');
      const r = await page.evaluate((o) => window.bench(o), { backend, size, images: Number(args.images), runs: Number(args.runs) });
      console.log(`| ${r.backend}${r.backend === 'webgl' ? ' (SwiftShader)' : ''} | ${r.msPerImage.toFixed(0)} | ${r.layersMsPerImage.toFixed(0)} | ${(r.layersMsPerImage / r.msPerImage).toFixed(2)}x | ${r.loadMs.toFixed(0)} | ${r.layersLoadMs.toFixed(0)} | ${r.sameTop}/${args.images} | ${r.maxDiff.toExponential(1)} |`);
      await page.close();
      rows.push(r);
    }
    const results = join(here, '..', '..', '..', 'bench', 'results');
    mkdirSync(results, { recursive: true });
    const file = join(results, 'classifier-browser.json');
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), size, images: Number(args.images), runs: Number(args.runs), cpus: cpus().length, cpu: cpus()[0]?.model, chromium: context.browser()?.version() ?? null, rows }, null, 2));
    console.log(`written ${file}`);
  } finally {
    await context.close();
  }
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
