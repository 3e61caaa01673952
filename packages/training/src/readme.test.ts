import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { seededRandom } from '@xception/core';
import { runOnlyNodeExample, useBackend } from '@xception/test-kit';
import { writeTinyDataset } from './node/test-support/tiny-dataset.js';
import { adaptNormalization, createDenseHead, fit, foldHead, type EpochLog } from './index.js';

// The README's example on 60 seeded features that a linear head can separate.
test("the README's example runs, and the folded head predicts what the head does", async () => {
  await useBackend('cpu');
  const n = 60;
  const random = seededRandom(4);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  const features = Float32Array.from({ length: n * 2048 }, (_, i) => 5 + random() + (i % 2048 < 256 ? 2 * labels[Math.floor(i / 2048)]! : 0));
  const logs: EpochLog[] = [];

  const normalization = adaptNormalization(features, n, 2048);
  const head = createDenseHead({ classes: 2, normalization, l2: 1e-4 });
  const x = tf.tensor2d(features, [n, 2048]);
  const { history } = await fit(head, x, labels, {
    epochs: 20, batchSize: 32, optimizer: { kind: 'adam', learningRate: 1e-3 },
    validationSplit: 0.2,
    classWeights: 'balanced', earlyStopping: { patience: 3, restoreBestWeights: true },
    onEpochEnd: (log) => { logs.push(log); },
  });
  const predictions = foldHead({ normalization, kernel: head.kernel.dataSync() as Float32Array, bias: head.bias.dataSync() as Float32Array });

  expect(history.at(-1)!.val_accuracy).toBe(1);
  expect(logs).toEqual(history);
  const viaHead = tf.tidy(() => head.logits(x, false).dataSync());
  const viaFolded = tf.tidy(() => tf.add(tf.matMul(x, tf.tensor2d(predictions.kernel, [2048, 2])), tf.tensor1d(predictions.bias)).dataSync());
  let maxDiff = 0;
  for (let i = 0; i < viaHead.length; i++) maxDiff = Math.max(maxDiff, Math.abs(viaHead[i]! - viaFolded[i]!));
  expect(maxDiff).toBeLessThan(1e-3);
  x.dispose();
  head.dispose();
});

// The README's trainClassifier example as a plain Node script on the built package: a tiny
// seeded dataset, no ImageNet weights, 71x71 and 2 epochs.
test("the README's trainClassifier example runs in plain Node and writes the model", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-training-readme-'));
  try {
    await writeTinyDataset(join(dir, 'data'), 4);
    const lines = runOnlyNodeExample(new URL('../README.md', import.meta.url), [
      ["'photos-by-class'", JSON.stringify(join(dir, 'data'))],
      ["weights: 'imagenet', epochs: 20", "weights: null, engine: 'wasm', imageSize: 71, batchSize: 4, epochs: 2"],
    ]).trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^epoch 1\/2: val_accuracy [\d.]+$/);
    expect(lines[1]).toMatch(/^epoch 2\/2: val_accuracy [\d.]+$/);
    expect(lines[2]).toBe('bright, dark: trained on 6 images, model in mine.keras');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
