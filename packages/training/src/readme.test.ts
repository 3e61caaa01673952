import * as tf from '@tensorflow/tfjs-core';
import { expect, test } from 'vitest';
import { seededRandom } from '@xception/core';
import { useBackend } from '@xception/test-kit';
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
