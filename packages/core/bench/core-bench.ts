/**
 * ms/image of @xception/core's fused graph against tfjs-layers running Keras' own topology, with
 * the same weights, on the same backend (wasm by default), at batch 1 and 8. Prints a table and
 * writes bench/results/core-<backend>.json at the repo root. Usage: pnpm --filter @xception/core bench -- [--backend wasm|cpu] [--runs N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { createXceptionFromValues, expectedWeights } from '../src/index.js';
import { sharedPath, useBackend, type TestBackend } from '@xception/test-kit';
import { loadKerasReferenceModel, randomImages, saneRandomWeights } from '../src/testing/index.js';

const { values: args } = parseArgs({
  options: { backend: { type: 'string', default: 'wasm' }, runs: { type: 'string', default: '5' }, batches: { type: 'string', default: '1,8' } },
});
const backend = args.backend as TestBackend;
const runs = Number(args.runs);
const batches = args.batches!.split(',').map(Number);

async function timeIt(run: () => tf.Tensor | tf.Tensor[], batch: number): Promise<{ median: number; min: number }> {
  const once = async (): Promise<number> => {
    const start = performance.now();
    const out = run();
    const list = Array.isArray(out) ? out : [out];
    await Promise.all(list.map((t) => t.data()));
    const ms = performance.now() - start;
    tf.dispose(list);
    return ms / batch;
  };
  await once(); // warm-up: kernel set-up, XNNPACK operator caches
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

await useBackend(backend);
const weights = saneRandomWeights(expectedWeights({ weights: null }), 7);
const ours = createXceptionFromValues({ weights: 'bench' }, weights);
const topology = sharedPath('reference', 'keras-xception-tfjs-model.json');
const reference = topology ? await loadKerasReferenceModel({ topologyPath: topology, weights }) : null;
if (!reference) console.warn('tfjs-layers column skipped: ../shared/reference/keras-xception-tfjs-model.json is absent');

const rows: Array<{ batch: number; engine: string; msPerImage: number; minMsPerImage: number }> = [];
for (const batch of batches) {
  const x = tf.tensor4d(randomImages([batch, 299, 299, 3], batch), [batch, 299, 299, 3]);
  const a = await timeIt(() => ours.predict(x), batch);
  rows.push({ batch, engine: '@xception/core (fused)', msPerImage: a.median, minMsPerImage: a.min });
  if (reference) {
    const b = await timeIt(() => reference.model.predict(x) as tf.Tensor, batch);
    rows.push({ batch, engine: 'tfjs-layers (Keras topology)', msPerImage: b.median, minMsPerImage: b.min });
  }
  x.dispose();
}

console.log(`\nXception 299x299, backend ${backend}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), median of ${runs} runs after a warm-up`);
console.log('| batch | engine | ms/image (median) | ms/image (best) | speed-up |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const layers = rows.find((o) => o.batch === r.batch && o.engine.startsWith('tfjs-layers'));
  const speedup = layers && r !== layers ? `${(layers.msPerImage / r.msPerImage).toFixed(2)}x` : '';
  console.log(`| ${r.batch} | ${r.engine} | ${r.msPerImage.toFixed(0)} | ${r.minMsPerImage.toFixed(0)} | ${speedup} |`);
}
const dir = new URL('../../../bench/results/', import.meta.url);
mkdirSync(dir, { recursive: true });
const file = new URL(`core-${backend}.json`, dir).pathname;
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), backend, runs, cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, rows }, null, 2));
console.log(`written ${file}`);
ours.dispose();
reference?.dispose();
