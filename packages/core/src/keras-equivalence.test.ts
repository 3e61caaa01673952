import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import { createXceptionFromValues, expectedWeights, type XceptionOptions } from './index.js';
import { maxAbsDiff, SKIP_NO_SHARED, sharedPath, useBackend } from '@xception/test-kit';
import { loadKerasReferenceModel, randomImages, saneRandomWeights } from './testing/index.js';

/**
 * The fused graph (BatchNorm folded, fused conv+bias+relu) against Keras' own layers: the real
 * Keras topology run by tfjs-layers, layer by layer, with the same seeded weights and inputs.
 */
const topologyPath = sharedPath('reference', 'keras-xception-tfjs-model.json');
if (!topologyPath) console.warn(SKIP_NO_SHARED);

const report = (what: string, diff: number): number => {
  console.log(`max |ours - Keras| ${what}: ${diff.toExponential(2)}`);
  return diff;
};

describe.skipIf(!topologyPath)('equivalence with Keras (tfjs-layers on the real topology)', async () => {
  await useBackend('wasm');
  const weights = saneRandomWeights(expectedWeights({ weights: null }), 2024);
  // Of any size (Keras' GlobalAveragePooling2D and Dense take any): one build serves 299x299 and 71x71.
  const reference = topologyPath ? await loadKerasReferenceModel({ topologyPath, weights, inputShape: [null, null, 3] }) : null;
  // One image: batches are checked against single images in xception-model.test.ts.
  const x = tf.tensor4d(randomImages([1, 299, 299, 3], 11), [1, 299, 299, 3]);
  const expected = reference?.run(x);
  afterAll(() => { tf.dispose([x, expected!.output, expected!.pooled]); reference?.dispose(); });

  test('wasm, top: probabilities within 1e-5, pooled features within 1e-4', () => {
    const model = createXceptionFromValues({ weights: 'test' }, weights);
    const { output, features } = model.predictWithFeatures(x);
    // Guard against a vacuous comparison: the reference must give a spread distribution.
    const top = tf.max(expected!.output).dataSync()[0]!;
    expect(top).toBeGreaterThan(0.005);
    expect(top).toBeLessThan(0.9);
    expect(report('probabilities (wasm)', maxAbsDiff(output, expected!.output))).toBeLessThanOrEqual(1e-5);
    expect(report('pooled features (wasm)', maxAbsDiff(features, expected!.pooled))).toBeLessThanOrEqual(1e-4);
    tf.dispose([output, features]);
    model.dispose();
  });

  // The cpu backend is pure JavaScript (~30 s for one 299x299 image here): its kernels are checked
  // on one 71x71 image against the Keras topology at 71x71, which exercises the same layers.
  test('cpu agrees with Keras the same way (71x71)', async () => {
    const shape = [1, 71, 71, 3] as [number, number, number, number];
    const input = tf.tensor4d(randomImages(shape, 12), shape);
    const want = reference!.run(input);
    await useBackend('cpu');
    try {
      const model = createXceptionFromValues({ weights: 'test', inputShape: [71, 71, 3] }, weights);
      const { output, features } = model.predictWithFeatures(input);
      expect(report('probabilities (cpu, 71x71)', maxAbsDiff(output, want.output))).toBeLessThanOrEqual(1e-5);
      expect(report('pooled features (cpu, 71x71)', maxAbsDiff(features, want.pooled))).toBeLessThanOrEqual(1e-4);
      tf.dispose([output, features]);
      model.dispose();
    } finally {
      tf.dispose([input, want.output, want.pooled]);
      await useBackend('wasm');
    }
  });

  test('wasm, logits (classifierActivation null) within 1e-4: Keras\' linear Dense on its own pooled features', () => {
    // Keras' predictions layer with activation null is Dense: pooled features times the kernel plus
    // the bias, computed here from the reference's pooled features and the raw weights.
    const want = tf.tidy(() => tf.add(
      tf.matMul(expected!.pooled, tf.tensor2d(weights.get('predictions/kernel')!.values, [2048, 1000])),
      tf.tensor1d(weights.get('predictions/bias')!.values),
    ));
    const model = createXceptionFromValues({ weights: 'test', classifierActivation: null }, weights);
    const got = model.predict(x);
    expect(got.shape).toEqual(want.shape);
    expect(report('logits (classifierActivation null)', maxAbsDiff(got, want))).toBeLessThanOrEqual(1e-4);
    tf.dispose([want, got]);
    model.dispose();
  });

  test.each<[string, XceptionOptions]>([
    ['no top, 4D features at 150x200', { weights: 'test', includeTop: false, inputShape: [150, 200, 3] }],
  ])('wasm, %s within 1e-4', async (label, options) => {
    const includeTop = options.includeTop ?? true;
    const shape = (options.inputShape ?? [299, 299, 3]) as [number, number, 3];
    const ref = await loadKerasReferenceModel({ topologyPath: topologyPath!, weights, includeTop, inputShape: shape });
    const input = tf.tensor4d(randomImages([1, shape[0], shape[1], 3], 5), [1, shape[0], shape[1], 3]);
    const { output: want } = ref.run(input);
    const model = createXceptionFromValues(options, includeTop ? weights : new Map([...weights].filter(([k]) => !k.startsWith('predictions/'))));
    const got = model.predict(input);
    expect(got.shape).toEqual(want.shape);
    expect(report(label, maxAbsDiff(got, want))).toBeLessThanOrEqual(1e-4);
    tf.dispose([input, want, got]);
    model.dispose();
    ref.dispose();
  });
});
