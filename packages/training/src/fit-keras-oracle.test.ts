import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@xception/core';
import { oraclePython, readNpy, runOraclePython, SKIP_NO_ORACLE_PYTHON, useBackend } from '@xception/test-kit';
import { adaptNormalization, createDenseHead, fit, type FitOptions } from './index.js';

/**
 * Real Keras 3 (TensorFlow 2.21, CPU) trains the same head on the same features from the same
 * initial weights, in one Python process for the file: Normalization adapted on the training
 * part, Dense(3, softmax, kernel_regularizer=l2), fit() for 3 epochs with shuffle=False, the last
 * 20% held out by validation_split, class weights, a partial last batch (80 = 6 x 12 + 8).
 */
const python = oraclePython();
const N = 100;
const D = 64;
const C = 3;
const L2 = 0.01;

const KERAS_SCRIPT = `
import sys, json, numpy as np, keras
d = sys.argv[1]
x = np.fromfile(d + '/x.f32', dtype=np.float32).reshape(${N}, ${D})
y = np.fromfile(d + '/y.i32', dtype=np.int32)
k0 = np.fromfile(d + '/kernel.f32', dtype=np.float32).reshape(${D}, ${C})
b0 = np.fromfile(d + '/bias.f32', dtype=np.float32)
split = int(np.floor(${N} * (1 - 0.2)))
out = {}
for name, optimizer in [
    ('sgd', keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)),
    ('adamw', keras.optimizers.Adam(learning_rate=0.01, weight_decay=0.05)),
]:
    norm = keras.layers.Normalization()
    norm.adapt(x[:split])
    dense = keras.layers.Dense(${C}, activation='softmax', kernel_regularizer=keras.regularizers.l2(${L2}))
    model = keras.Sequential([keras.Input((${D},)), norm, dense])
    dense.set_weights([k0, b0])
    model.compile(optimizer=optimizer, loss='sparse_categorical_crossentropy', metrics=['accuracy'], run_eagerly=True)
    h = model.fit(x, y, epochs=3, batch_size=12, shuffle=False, validation_split=0.2, class_weight={0: 1.0, 1: 2.0, 2: 0.5}, verbose=0)
    k, b = dense.get_weights()
    np.save(d + '/' + name + '-kernel.npy', k)
    np.save(d + '/' + name + '-bias.npy', b)
    np.save(d + '/' + name + '-mean.npy', np.asarray(norm.mean).reshape(-1).astype(np.float32))
    np.save(d + '/' + name + '-variance.npy', np.asarray(norm.variance).reshape(-1).astype(np.float32))
    out[name] = {k: [float(v) for v in vs] for k, vs in h.history.items()}
print(json.dumps(out))
`;

function maxAbsDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let max = 0;
  for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - theirs[i]!));
  return max;
}

describe.skipIf(!python)(`the head's fit() against Keras 3's fit() ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-fit-oracle-'));
  // Features with per-dimension offsets and scales (as pooled CNN features have), so that the
  // normalisation matters, and labels that a linear head can partly learn.
  const random = seededRandom(15);
  const offsets = Float32Array.from({ length: D }, () => random() * 4 - 1);
  const scales = Float32Array.from({ length: D }, () => 0.1 + random() * 3);
  const labels = Int32Array.from({ length: N }, () => Math.floor(random() * C));
  const x = Float32Array.from({ length: N * D }, (_, i) => offsets[i % D]! + scales[i % D]! * (random() * 2 - 1 + (i % D === labels[Math.floor(i / D)]! ? 0.8 : 0)));
  const kernel = Float32Array.from({ length: D * C }, () => (random() * 2 - 1) * 0.2);
  const bias = Float32Array.from({ length: C }, () => random() * 0.2 - 0.1);
  let keras: Record<string, Record<string, number[]>>;
  const figures: string[] = [];

  beforeAll(async () => {
    await useBackend('cpu');
    writeFileSync(join(dir, 'x.f32'), x);
    writeFileSync(join(dir, 'y.i32'), labels);
    writeFileSync(join(dir, 'kernel.f32'), kernel);
    writeFileSync(join(dir, 'bias.f32'), bias);
    keras = JSON.parse(runOraclePython(python!, KERAS_SCRIPT, [dir]).trim().split('\n').at(-1)!);
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    console.log(`head fit() against Keras 3, max |ours - Keras|:\n  ${figures.join('\n  ')}`);
  });

  const cases: Array<{ name: string; optimizer: FitOptions['optimizer'] }> = [
    { name: 'sgd', optimizer: { kind: 'sgd', learningRate: 0.05, momentum: 0.9 } },
    { name: 'adamw', optimizer: { kind: 'adam', learningRate: 0.01, weightDecay: 0.05 } },
  ];

  it.each(cases)('$name: after 3 epochs the weights are within 1e-5 of Keras, and so are the losses', async ({ name, optimizer }) => {
    const trainCount = Math.floor(N * 0.8);
    const normalization = adaptNormalization(x.subarray(0, trainCount * D), trainCount, D);
    const stats = { mean: maxAbsDiff(normalization.mean, readNpy(join(dir, `${name}-mean.npy`)).data), variance: maxAbsDiff(normalization.variance, readNpy(join(dir, `${name}-variance.npy`)).data) };
    expect(stats.mean).toBeLessThan(1e-5);
    expect(stats.variance).toBeLessThan(1e-5);

    const before = tf.memory().numTensors;
    const head = createDenseHead({ classes: C, normalization, l2: L2, initialWeights: { kernel, bias } });
    const features = tf.tensor2d(x, [N, D]);
    const { history } = await fit(head, features, labels, {
      epochs: 3, batchSize: 12, optimizer, shuffle: false, validationSplit: 0.2, classWeights: [1, 2, 0.5],
    });
    const weights = { kernel: maxAbsDiff(head.kernel.dataSync(), readNpy(join(dir, `${name}-kernel.npy`)).data), bias: maxAbsDiff(head.bias.dataSync(), readNpy(join(dir, `${name}-bias.npy`)).data) };
    const moved = maxAbsDiff(head.kernel.dataSync(), kernel);
    features.dispose();
    head.dispose();
    expect(tf.memory().numTensors).toBe(before);

    const losses = maxAbsDiff(history.map((h) => h.loss), keras[name]!.loss!);
    const valLosses = maxAbsDiff(history.map((h) => h.val_loss!), keras[name]!.val_loss!);
    const valAccuracy = maxAbsDiff(history.map((h) => h.val_accuracy!), keras[name]!.val_accuracy!);
    figures.push(`${name}: kernel ${weights.kernel.toExponential(1)}, bias ${weights.bias.toExponential(1)} (weights moved up to ${moved.toFixed(3)}), `
      + `mean ${stats.mean.toExponential(1)}, variance ${stats.variance.toExponential(1)}, loss ${losses.toExponential(1)}, val_loss ${valLosses.toExponential(1)}`);
    expect(moved).toBeGreaterThan(0.05); // training did move the weights
    expect(weights.kernel).toBeLessThan(1e-5);
    expect(weights.bias).toBeLessThan(1e-5);
    expect(losses).toBeLessThan(1e-5);
    expect(valLosses).toBeLessThan(1e-5);
    expect(valAccuracy).toBeLessThan(1e-6); // Keras' metric sums in float32
  });
});
