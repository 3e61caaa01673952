import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from 'vitest';
import {
  createXception,
  createXceptionFromValues,
  expectedWeights,
  kerasInitialWeights,
  XceptionDisposedError,
  XceptionInputError,
  XceptionWeightsError,
  type XceptionModel,
  type XceptionOptions,
} from './index.js';
import { SKIP_NO_SHARED, sharedPath, useBackend } from '@xception/test-kit';
import { loadKerasReferenceModel, randomImages, saneRandomWeights, type KerasReferenceModel } from './testing/index.js';

const topologyPath = sharedPath('reference', 'keras-xception-tfjs-model.json');
const images = (n: number, h: number, w: number, seed = 1): tf.Tensor4D => tf.tensor4d(randomImages([n, h, w, 3], seed), [n, h, w, 3]);

await useBackend('wasm');

// Built once for the whole file (a build, and each model's first prediction, cost about a second
// of CPU here): all three take any size and hold Keras' initial weights of the default seed (0),
// so the pooled outputs must be noTop's features pooled.
const noTop = createXceptionFromValues({ includeTop: false, weights: null }, null);
const pooled = {
  avg: createXceptionFromValues({ includeTop: false, pooling: 'avg', weights: null }, null),
  max: createXceptionFromValues({ includeTop: false, pooling: 'max', weights: null }, null),
};
afterAll(() => { noTop.dispose(); pooled.avg.dispose(); pooled.max.dispose(); });

describe('output shapes', () => {
  // Keras' own topology in tfjs-layers, of any size: its layers' output shapes at each size.
  let reference: Promise<KerasReferenceModel> | null = null;
  afterAll(async () => (await reference)?.dispose());

  // Expected 4D shapes come from tfjs-layers computing Keras' own topology's shapes at each size.
  test.skipIf(!topologyPath).each([
    [299, 299], [71, 71], [150, 150], [100, 200], [299, 120],
  ])('no top, %ix%i: Keras\' 4D features, and 2048 with avg or max pooling', async (h, w) => {
    reference ??= loadKerasReferenceModel({ topologyPath: topologyPath!, includeTop: false, inputShape: [null, null, 3] });
    const kerasShape = ((await reference).model.computeOutputShape([1, h, w, 3]) as number[]).slice(1);
    const x = images(1, h, w); // one image: the shapes and the pooling are per image (batches: below)
    const out = noTop.predict(x);
    expect(out.shape).toEqual([1, ...kerasShape]);
    for (const pooling of ['avg', 'max'] as const) {
      const p = pooled[pooling].predict(x);
      expect(p.shape).toEqual([1, 2048]);
      // The pooling is Keras' GlobalAverage/MaxPooling2D over the same 4D features.
      const fromFeatures = pooling === 'avg' ? tf.mean(out, [1, 2]) : tf.max(out, [1, 2]);
      expect(tf.max(tf.abs(tf.sub(p, fromFeatures))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([p, fromFeatures]);
    }
    tf.dispose([x, out]);
  });

  test('a pooled model of a static size reports [null, 2048] and pools as the dynamic one does', () => {
    const model = createXceptionFromValues({ includeTop: false, pooling: 'max', inputShape: [100, 200, 3], weights: null }, null);
    expect(model.outputShape).toEqual([null, 2048]);
    const x = images(1, 100, 200, 4);
    const [p, dynamic] = [model.predict(x), pooled.max.predict(x)];
    expect(p.shape).toEqual([1, 2048]);
    expect(tf.max(tf.abs(tf.sub(p, dynamic))).dataSync()[0]).toBe(0);
    tf.dispose([x, p, dynamic]);
    model.dispose();
  });

  test('a static no-top model reports Keras\' output_shape', async () => {
    const model = createXceptionFromValues({ includeTop: false, inputShape: [150, 200, 3], weights: null }, null);
    expect(model.outputShape).toEqual([null, 5, 7, 2048]);
    model.dispose();
  });

  test('top: [batch, classes] probabilities that sum to 1, any batch size', () => {
    // 71x71: the head does not depend on the input's size (299x299 runs in the shape tests above).
    const model = createXceptionFromValues({ weights: null, classes: 7, inputShape: [71, 71, 3] }, null);
    expect(model.outputShape).toEqual([null, 7]);
    for (const n of [1, 3]) {
      const x = images(n, 71, 71, n);
      const y = model.predict(x);
      expect(y.shape).toEqual([n, 7]);
      const sums = tf.sum(y, 1).dataSync();
      for (const s of sums) expect(s).toBeCloseTo(1, 5);
      tf.dispose([x, y]);
    }
    model.dispose();
  });
});

describe('features and batches', () => {
  // 71x71 (the same weights as at 299): these properties do not depend on the input's size, and
  // 299x299 runs in the shape tests above.
  const weights = saneRandomWeights(expectedWeights({ weights: null }), 3);
  const model = createXceptionFromValues({ weights: 'test', inputShape: [71, 71, 3] }, weights);
  afterAll(() => model.dispose());

  test('predictWithFeatures gives predict()\'s output and the pooled features in one pass', () => {
    const x = images(2, 71, 71, 5);
    const alone = model.predict(x);
    const { output, features } = model.predictWithFeatures(x);
    expect(features.shape).toEqual([2, 2048]);
    expect(tf.max(tf.abs(tf.sub(alone, output))).dataSync()[0]).toBe(0);
    // The top is Dense(softmax) over those features: recompute it from the raw weights.
    const kernel = tf.tensor2d(weights.get('predictions/kernel')!.values, [2048, 1000]);
    const bias = tf.tensor1d(weights.get('predictions/bias')!.values);
    const fromFeatures = tf.softmax(tf.add(tf.matMul(features, kernel), bias));
    expect(tf.max(tf.abs(tf.sub(fromFeatures, output))).dataSync()[0]).toBeLessThan(1e-6);
    tf.dispose([x, alone, output, features, kernel, bias, fromFeatures]);
  });

  test('each image in a batch gets the result it gets alone', () => {
    const x = images(3, 71, 71, 9);
    const batch = model.predict(x);
    for (let i = 0; i < 3; i++) {
      const one = tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]);
      const alone = model.predict(one as tf.Tensor4D);
      const row = tf.slice(batch, [i, 0], [1, -1]);
      expect(tf.max(tf.abs(tf.sub(alone, row))).dataSync()[0]).toBeLessThan(1e-6);
      tf.dispose([one, alone, row]);
    }
    tf.dispose([x, batch]);
  });

  test('no tensor leaks: numTensors unchanged after 10 predictions, and back to the start after dispose', async () => {
    const before = tf.memory().numTensors;
    const small = createXceptionFromValues({ includeTop: false, pooling: 'avg', weights: null }, null);
    const afterBuild = tf.memory().numTensors;
    const x = images(1, 71, 71);
    for (let i = 0; i < 5; i++) {
      const input = images(1, 71, 71, i);
      model.predict(input).dispose();
      input.dispose();
    }
    for (let i = 0; i < 5; i++) {
      const { output, features } = small.predictWithFeatures(x);
      tf.dispose([output, features]);
    }
    x.dispose();
    expect(tf.memory().numTensors).toBe(afterBuild);
    small.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('input errors are clear, never a backend stack trace', () => {
  const model = createXceptionFromValues({ weights: null }, null);
  afterAll(() => model.dispose());

  const cases: Array<[string, () => unknown, () => XceptionModel, string]> = [
    ['not a tensor', () => [[1, 2, 3]], () => model, 'predict expects a tf.Tensor4D [batch, height, width, 3]; received object.'],
    ['rank 3', () => tf.zeros([299, 299, 3]), () => model,
      'predict expects a 4D tensor [batch, height, width, 3]; received shape [299, 299, 3] (add a batch dimension with expandDims(0)).'],
    ['4 channels', () => tf.zeros([1, 299, 299, 4]), () => model, 'predict expects 3 channels (RGB); received shape [1, 299, 299, 4].'],
    ['empty batch', () => tf.zeros([0, 299, 299, 3]), () => model, 'predict expects at least one image in the batch; received shape [0, 299, 299, 3].'],
    ['int32 pixels', () => tf.zeros([1, 299, 299, 3], 'int32'), () => model,
      'predict expects float32 pixels scaled to [-1, 1] by preprocessInput; received dtype int32 with shape [1, 299, 299, 3].'],
    ['wrong size for a static model', () => tf.zeros([1, 224, 224, 3]), () => model,
      "predict expects 299x299 images (the model's inputShape); received 224x224 in shape [1, 224, 224, 3]; resize the images or build the model with another inputShape."],
    ['too small for a dynamic model', () => tf.zeros([1, 64, 100, 3]), () => noTop,
      'predict expects images of at least 71x71; received 64x100 in shape [1, 64, 100, 3].'],
  ];
  test.each(cases)('%s', (_label, input, which, message) => {
    const x = input();
    expect(() => which().predict(x as tf.Tensor4D)).toThrowError(new XceptionInputError(message));
    try { which().predict(x as tf.Tensor4D); } catch (e) { expect((e as XceptionInputError).code).toBe('ERR_XCEPTION_INPUT'); }
    if (x instanceof tf.Tensor) x.dispose();
  });

  test('a disposed model says so', () => {
    const m = createXceptionFromValues({ includeTop: false, weights: null }, null);
    m.dispose();
    const x = tf.zeros([1, 71, 71, 3]) as tf.Tensor4D;
    expect(() => m.predict(x)).toThrowError(XceptionDisposedError);
    x.dispose();
  });
});

describe('weight maps', () => {
  const options: XceptionOptions = { includeTop: false, weights: '/some/file.h5' };
  const specs = expectedWeights(options);
  const good = (): Map<string, tf.Tensor> => new Map(specs.map((s) => [s.name, tf.zeros([...s.shape])]));

  test('a map of tensors in Keras\' layout builds, and the caller keeps its tensors', async () => {
    const map = good();
    const model = await createXception(options, map);
    expect(model.outputShape).toEqual([null, null, null, 2048]);
    model.dispose();
    expect([...map.values()].every((t) => !t.isDisposed)).toBe(true);
    tf.dispose([...map.values()]);
  });

  test('missing, unexpected, mis-shaped and NaN weights are all listed in one error', async () => {
    const map = good();
    map.get('block1_conv1/kernel')!.dispose();
    map.delete('block1_conv1/kernel');
    map.get('block3_sepconv1_bn/gamma')!.dispose();
    map.delete('block3_sepconv1_bn/gamma');
    map.set('predictions/kernel', tf.zeros([2048, 1000]));
    map.get('block2_sepconv1/pointwise_kernel')!.dispose();
    map.set('block2_sepconv1/pointwise_kernel', tf.zeros([1, 1, 128, 64]));
    map.get('block14_sepconv2_bn/moving_variance')!.dispose();
    map.set('block14_sepconv2_bn/moving_variance', tf.fill([2048], NaN));
    const error = await createXception(options, map).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(XceptionWeightsError);
    expect((error as Error).message).toBe(
      'The weights do not fit this Xception configuration: 2 missing (block1_conv1/kernel, block3_sepconv1_bn/gamma); ' +
      '1 unexpected (predictions/kernel); 1 mis-shaped (block2_sepconv1/pointwise_kernel is [1, 1, 128, 64], expected [1, 1, 64, 128]); ' +
      '1 with NaN or Inf values (block14_sepconv2_bn/moving_variance); check that the file matches includeTop, classes and the Keras layer names (see expectedWeights()).',
    );
    expect((error as XceptionWeightsError).problems).toHaveLength(5);
    tf.dispose([...map.values()]);
  });
});

describe('weights: null uses Keras\' initialisers', () => {
  const specs = expectedWeights({ weights: null });
  const init = kerasInitialWeights(specs, 42);

  test('glorot_uniform kernels within Keras\' limit sqrt(6 / (fan_in + fan_out)), identity BatchNorm, zero bias', () => {
    const limit = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));
    const cases: Array<[string, number]> = [
      ['block1_conv1/kernel', limit(3 * 3 * 3, 3 * 3 * 32)],
      ['block2_sepconv1/depthwise_kernel', limit(3 * 3 * 64, 3 * 3 * 1)],
      ['block2_sepconv1/pointwise_kernel', limit(64, 128)],
      ['predictions/kernel', limit(2048, 1000)],
    ];
    for (const [name, bound] of cases) {
      const v = init.get(name)!.values;
      const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(max, name).toBeLessThanOrEqual(bound);
      expect(max, name).toBeGreaterThan(bound * 0.95);
    }
    expect(init.get('block4_sepconv2_bn/gamma')!.values.every((x) => x === 1)).toBe(true);
    expect(init.get('block4_sepconv2_bn/moving_variance')!.values.every((x) => x === 1)).toBe(true);
    expect(init.get('block4_sepconv2_bn/moving_mean')!.values.every((x) => x === 0)).toBe(true);
    expect(init.get('predictions/bias')!.values.every((x) => x === 0)).toBe(true);
  });

  test('seeded: the same seed gives the same model, another seed another', () => {
    const x = images(1, 71, 71);
    const run = (seed: number): Float32Array => {
      const m = createXceptionFromValues({ includeTop: false, pooling: 'avg', weights: null, seed }, null);
      const y = m.predict(x);
      const data = y.dataSync() as Float32Array;
      y.dispose();
      m.dispose();
      return data;
    };
    // The shared avg-pooled model was built without a seed: seed 0's.
    const shared = pooled.avg.predict(x);
    const zero = run(0);
    expect(zero).toEqual(shared.dataSync());
    expect(run(1)).not.toEqual(zero);
    shared.dispose();
    x.dispose();
  });
});

if (!topologyPath) console.warn(SKIP_NO_SHARED);
