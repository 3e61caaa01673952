import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXceptionFromValues, expectedWeights, resolveXceptionConfig, type XceptionOptions } from '@xception/core';
import { oraclePython, readNpy, runOraclePython, SKIP_NO_ORACLE_PYTHON } from '@xception/test-kit';
import { loadXception } from './load-xception.js';
import { readKerasArchive } from './keras-archive.js';
import { writeKeras3Weights, writeKerasArchive } from './keras3-writer.js';
import { randomImages, saneRandomWeights, useBackend } from './test-support/test-imports.js';

/**
 * Real Keras 3.15 (TensorFlow 2.21, CPU) as the oracle, in one Python process for the whole
 * file: our seeded weights go to Keras in our own Keras 3 files (a 5-class .keras archive for
 * load_model, a notop .weights.h5 for load_weights into keras.applications.Xception(weights=None,
 * include_top=False)),
 * and Keras saves seeded weights of its own in its three formats for us to load. Inputs are
 * 71x71 (with a top) and 71x90 (without: non-square), batch 2, so the whole file takes seconds.
 */
const python = oraclePython();

const KERAS_SCRIPT = `
import sys, json, numpy as np, keras
from keras.applications import Xception
d = sys.argv[1]
x71 = np.fromfile(d + '/x71.f32', dtype=np.float32).reshape(2, 71, 71, 3)
x90 = np.fromfile(d + '/x90.f32', dtype=np.float32).reshape(2, 71, 90, 3)
def save(name, model, x):
    # A direct call (no predict()): the same layers without tf.function tracing, seconds faster.
    np.save(d + '/keras-' + name + '.npy', np.asarray(model(x, training=False)).astype(np.float32))
m = keras.models.load_model(d + '/ours-c5.keras')
# Keras' Dense applies its activation attribute: one model (one build) serves the three heads.
for act in ['softmax', None, 'sigmoid']:
    m.get_layer('predictions').activation = keras.activations.get(act)
    save('top-' + str(act), m, x71)
k = Xception(weights=None, include_top=False, input_shape=(71, 90, 3))
k.load_weights(d + '/ours-notop.weights.h5')
save('notop-None', k, x90)
# pooling='avg' / 'max' are these layers on the same features (keras/src/applications/xception.py).
save('notop-avg', keras.Sequential([k, keras.layers.GlobalAveragePooling2D()]), x90)
save('notop-max', keras.Sequential([k, keras.layers.GlobalMaxPooling2D()]), x90)
# Keras' own seeded model, BatchNorm statistics and biases away from their initial values, in its three formats.
keras.utils.set_random_seed(3)
rng = np.random.default_rng(3)
k = Xception(weights=None, input_shape=(71, 71, 3), classes=7, classifier_activation=None)
for layer in k.layers:
    if isinstance(layer, keras.layers.BatchNormalization):
        n = layer.get_weights()[0].shape
        layer.set_weights([rng.uniform(0.5, 1.5, n), rng.uniform(-0.3, 0.3, n), rng.uniform(-0.3, 0.3, n), rng.uniform(0.5, 2.0, n)])
    if isinstance(layer, keras.layers.Dense):
        w, b = layer.get_weights()
        layer.set_weights([w, rng.uniform(-0.5, 0.5, b.shape)])
k.save(d + '/keras.keras')
k.save_weights(d + '/keras.weights.h5')
k.save(d + '/keras.h5')
save('saved', k, x71)
print(json.dumps({'keras': keras.__version__, 'ours_keras_c5_output': list(m.output_shape)}))
`;

interface Case {
  name: string;
  options: XceptionOptions;
  /** The values the file was written from. */
  weights: 'notop' | 'c5';
  input: 'x71' | 'x90';
}

const CASES: Case[] = [
  { name: 'top-softmax', options: { classes: 5, inputShape: [71, 71, 3] }, weights: 'c5', input: 'x71' },
  { name: 'top-None', options: { classes: 5, inputShape: [71, 71, 3], classifierActivation: null }, weights: 'c5', input: 'x71' },
  { name: 'top-sigmoid', options: { classes: 5, inputShape: [71, 71, 3], classifierActivation: 'sigmoid' }, weights: 'c5', input: 'x71' },
  { name: 'notop-None', options: { includeTop: false, inputShape: [71, 90, 3] }, weights: 'notop', input: 'x90' },
  { name: 'notop-avg', options: { includeTop: false, inputShape: [71, 90, 3], pooling: 'avg' }, weights: 'notop', input: 'x90' },
  { name: 'notop-max', options: { includeTop: false, inputShape: [71, 90, 3], pooling: 'max' }, weights: 'notop', input: 'x90' },
];

/** Max |a - b| and the largest |b|, for a tolerance relative to the output's scale. */
function compare(ours: Float32Array, theirs: ArrayLike<number>): { maxDiff: number; scale: number } {
  let maxDiff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return { maxDiff, scale };
}

describe.skipIf(!python)(`Keras 3 files both ways, outputs against real Keras ${python ? '' : SKIP_NO_ORACLE_PYTHON}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-keras3-oracle-'));
  const inputs = { x71: randomImages([2, 71, 71, 3], 7), x90: randomImages([2, 71, 90, 3], 8) };
  const notop = resolveXceptionConfig({ weights: null, includeTop: false, inputShape: [71, 90, 3] });
  const c5 = resolveXceptionConfig({ weights: null, classes: 5, inputShape: [71, 71, 3] });
  const values = {
    notop: saneRandomWeights(expectedWeights(notop), 22),
    c5: saneRandomWeights(expectedWeights(c5), 23),
  };
  const figures: string[] = [];
  let answer: { keras: string; ours_keras_c5_output: unknown[] };

  beforeAll(async () => {
    await useBackend('wasm');
    writeFileSync(join(dir, 'x71.f32'), inputs.x71);
    writeFileSync(join(dir, 'x90.f32'), inputs.x90);
    await writeKerasArchive(join(dir, 'ours-c5.keras'), { config: c5, values: values.c5, classNames: ['a', 'b', 'c', 'd', 'e'] });
    await writeKeras3Weights(join(dir, 'ours-notop.weights.h5'), { config: notop, values: values.notop });
    answer = JSON.parse(runOraclePython(python!, KERAS_SCRIPT, [dir]).trim().split('\n').at(-1)!);
  }, 180_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    // The figures the README quotes, printed for whoever runs the suite.
    console.log(`max |ours - Keras ${answer?.keras}| per case:\n  ${figures.join('\n  ')}`);
  });

  const predict = (options: XceptionOptions, weights: ReadonlyMap<string, { shape: readonly number[]; values: Float32Array }>, input: 'x71' | 'x90'): Float32Array => {
    const config = resolveXceptionConfig({ ...options, weights: null });
    const model = createXceptionFromValues(config, weights);
    const shape = input === 'x71' ? [2, 71, 71, 3] : [2, 71, 90, 3];
    try {
      return tf.tidy(() => model.predict(tf.tensor4d(inputs[input], shape as [number, number, number, number])).dataSync() as Float32Array);
    } finally {
      model.dispose();
    }
  };

  it.each(CASES)('$name: Keras, given our file, predicts what we predict', ({ name, options, weights, input }) => {
    const theirs = readNpy(join(dir, `keras-${name}.npy`));
    const ours = predict(options, values[weights], input);
    expect(theirs.data.length).toBe(ours.length);
    const { maxDiff, scale } = compare(ours, theirs.data);
    figures.push(`${name} (our file → Keras): ${maxDiff.toExponential(1)} (outputs up to ${scale.toPrecision(3)})`);
    expect(scale).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(1e-5 * Math.max(1, scale));
  });

  it('our .keras archive loads in keras.models.load_model with its 5-class head, and reads back with its class names', async () => {
    expect(answer.ours_keras_c5_output).toEqual([null, 5]);
    const back = await readKerasArchive(join(dir, 'ours-c5.keras'));
    expect(back.classNames).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(back.savedConfig).toEqual({ includeTop: true, classes: 5, inputShape: [71, 71, 3], pooling: null, classifierActivation: 'softmax' });
  });

  it.each(['keras.keras', 'keras.weights.h5', 'keras.h5'])('%s saved by Keras 3 loads here and predicts what Keras predicts', async (file) => {
    // The archive brings its own options; the weights-only files need them spelled out, as in Keras.
    const options: XceptionOptions = file.endsWith('.keras') ? {} : { classes: 7, classifierActivation: null, inputShape: [71, 71, 3] };
    const model = await loadXception({ weights: join(dir, file), ...options });
    expect(model.config).toMatchObject({ includeTop: true, classes: 7, classifierActivation: null, inputShape: [71, 71, 3] });
    const ours = tf.tidy(() => model.predict(tf.tensor4d(inputs.x71, [2, 71, 71, 3])).dataSync() as Float32Array);
    model.dispose();
    const { maxDiff, scale } = compare(ours, readNpy(join(dir, 'keras-saved.npy')).data);
    figures.push(`${file} (Keras' file → us): ${maxDiff.toExponential(1)} (outputs up to ${scale.toPrecision(3)})`);
    expect(scale).toBeGreaterThan(0);
    expect(maxDiff).toBeLessThan(1e-5 * Math.max(1, scale));
  });
});
