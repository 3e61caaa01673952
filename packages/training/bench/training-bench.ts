/**
 * The two costs of `xception train`: seconds per epoch of head training (Normalization +
 * Dense(classes, softmax) with L2, Adam, batch 32) on cached 2048-d features, and photos/s of
 * feature extraction (pooled features, 299x299 by default) with an engine (onnx by default) on
 * ../shared's ImageNet samples. Seeded random weights: the timing does not depend on the values.
 * Prints a table and writes bench/results/training.json at the repo root.
 * Usage: pnpm --filter @xception/training bench -- [--features 1000] [--classes 10] [--epochs 5]
 *        [--photos 64] [--engine onnx] [--image-size 299] [--backend cpu|wasm]
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { expectedWeights, kerasInitialWeights, resolveXceptionConfig, seededRandom } from '@xception/core';
import { sharedPath, useBackend, type TestBackend } from '@xception/test-kit';
import type { EngineChoice } from '@xception/engines';
import { openModel } from '@xception/runtime';
import { loadImage } from '@xception/vision-utils/node';
import { adaptNormalization, createDenseHead, fit } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    features: { type: 'string', default: '1000' }, classes: { type: 'string', default: '10' }, epochs: { type: 'string', default: '5' },
    photos: { type: 'string', default: '64' }, engine: { type: 'string', default: 'onnx' }, 'image-size': { type: 'string', default: '299' },
    backend: { type: 'string', default: 'cpu' }, 'batch-size': { type: 'string', default: '8' },
  },
});
const count = Number(args.features);
const classes = Number(args.classes);
const epochs = Number(args.epochs);
const rows: Array<Record<string, unknown>> = [];

// ---- Head training on cached features ----
await useBackend(args.backend as TestBackend);
const random = seededRandom(1);
const labels = Int32Array.from({ length: count }, () => Math.floor(random() * classes));
const features = Float32Array.from({ length: count * 2048 }, () => random() * 3);
const head = createDenseHead({ classes, normalization: adaptNormalization(features, count, 2048), l2: 1e-4 });
const x = tf.tensor2d(features, [count, 2048]);
const epochStarts: number[] = [];
let last = performance.now();
await fit(head, x, labels, {
  epochs, batchSize: 32, optimizer: { kind: 'adam' }, validationSplit: 0.2,
  onEpochEnd: () => { const now = performance.now(); epochStarts.push(now - last); last = now; },
});
x.dispose();
head.dispose();
const sorted = [...epochStarts].sort((a, b) => a - b);
rows.push({ measure: `head training, ${count} features x ${classes} classes, ${args.backend}`, value: sorted[Math.floor(sorted.length / 2)]! / 1000, unit: 's/epoch (median)' });

// ---- Feature extraction with an engine ----
const photos = sharedPath('images', 'imagenet-samples');
if (!photos) {
  console.warn('feature extraction skipped: ../shared/images/imagenet-samples is absent');
} else {
  const side = Number(args['image-size']);
  const batchSize = Number(args['batch-size']);
  const files = readdirSync(photos).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, Number(args.photos)).map((f) => join(photos, f));
  const config = resolveXceptionConfig({ weights: null, includeTop: false, pooling: 'avg', inputShape: [side, side, 3] });
  const { engine } = await openModel(null, {
    engine: args.engine as EngineChoice, includeTop: false, pooling: 'avg', imageSize: side, values: kerasInitialWeights(expectedWeights(config), 0), log: (line) => console.log(line),
  });
  try {
    // One warm-up batch (session start, first runs), then the timed pass: decode + inference.
    const runBatch = async (batch: string[]): Promise<void> => {
      const images = await Promise.all(batch.map((f) => loadImage(f, { size: side })));
      const pixels = new Uint8Array(batch.length * side * side * 3);
      images.forEach((image, i) => pixels.set(image.pixels, i * side * side * 3));
      await engine.run({ pixels, count: batch.length, height: side, width: side });
    };
    await runBatch(files.slice(0, batchSize));
    const start = performance.now();
    for (let i = 0; i < files.length; i += batchSize) await runBatch(files.slice(i, i + batchSize));
    rows.push({ measure: `feature extraction, ${engine.detail}, ${side}x${side}, batch ${batchSize}, ${files.length} photos`, value: files.length / ((performance.now() - start) / 1000), unit: 'photos/s' });
  } finally {
    await engine.dispose();
  }
}

console.table(rows);
const root = new URL('../../../', import.meta.url);
mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(new URL('bench/results/training.json', root), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, node: process.version, args, rows }, null, 2));
