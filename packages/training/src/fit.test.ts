import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@xception/core';
import { useBackend } from '@xception/test-kit';
import { adaptNormalization, createDenseHead, decodeCheckpoint, encodeCheckpoint, fit, resolveClassWeights, type FitOptions, type TrainingState } from './index.js';

/** fit()'s bookkeeping on a small seeded problem (Keras' arithmetic itself: fit-keras-oracle.test.ts). */
const N = 40;
const D = 6;
const random = seededRandom(9);
const labels = Int32Array.from({ length: N }, (_, i) => i % 2);
const features = Float32Array.from({ length: N * D }, (_, i) => random() * 2 - 1 + (i % D === 0 ? labels[Math.floor(i / D)]! : 0));
const normalization = adaptNormalization(features, N, D);
const initial = { kernel: Float32Array.from({ length: D * 2 }, () => random() * 0.2 - 0.1), bias: new Float32Array(2) };

async function train(options: FitOptions): Promise<{ kernel: Float32Array; history: Awaited<ReturnType<typeof fit>> }> {
  const head = createDenseHead({ classes: 2, normalization, l2: 0.01, initialWeights: initial });
  const x = tf.tensor2d(features, [N, D]);
  try {
    const history = await fit(head, x, labels, options);
    return { kernel: Float32Array.from(head.kernel.dataSync()), history };
  } finally {
    x.dispose();
    head.dispose();
  }
}

describe('fit()', () => {
  beforeAll(() => useBackend('cpu'));

  it('leaves no tensor behind, with validation, class weights and early stopping', async () => {
    const before = tf.memory().numTensors;
    await train({ epochs: 3, batchSize: 7, validationSplit: 0.25, classWeights: 'balanced', earlyStopping: { patience: 1, restoreBestWeights: true }, optimizer: { kind: 'adam' } });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("validates on the last fraction of the samples, as Keras' validation_split", async () => {
    const { history } = await train({ epochs: 1, validationSplit: 0.25, shuffle: false });
    // The model after the epoch, on samples 30..39 only, gives the logged val_accuracy.
    const head = createDenseHead({ classes: 2, normalization, l2: 0.01, initialWeights: initial });
    const x = tf.tensor2d(features, [N, D]);
    await fit(head, x, labels, { epochs: 1, shuffle: false, validationSplit: 0.25 });
    const predicted = tf.tidy(() => tf.argMax(head.logits(tf.slice(x, 30, 10), false), 1).dataSync());
    x.dispose();
    head.dispose();
    const right = Array.from(predicted).filter((p, i) => p === labels[30 + i]).length;
    expect(history.history[0]!.val_accuracy).toBeCloseTo(right / 10, 10);
  });

  it('stops early as Keras\' EarlyStopping does: patience counts the epochs without improvement', async () => {
    // A learning rate of 0: the loss never improves after the first epoch.
    const frozen: FitOptions = { epochs: 10, optimizer: { kind: 'sgd', learningRate: 0 }, earlyStopping: { monitor: 'loss' } };
    expect((await train(frozen)).history.stoppedEpoch).toBe(1);
    const patient = await train({ ...frozen, earlyStopping: { monitor: 'loss', patience: 2 } });
    expect(patient.history.stoppedEpoch).toBe(2);
    expect(patient.history.history).toHaveLength(3);
    await expect(train({ epochs: 1, earlyStopping: {} })).rejects.toThrow(/validationSplit/);
  });

  it('shuffles by seed: the same seed gives the same weights, another seed or no shuffle others', async () => {
    const a = await train({ epochs: 2, batchSize: 8, seed: 1 });
    const b = await train({ epochs: 2, batchSize: 8, seed: 1 });
    const c = await train({ epochs: 2, batchSize: 8, seed: 2 });
    const d = await train({ epochs: 2, batchSize: 8, shuffle: false });
    expect(b.kernel).toEqual(a.kernel);
    expect(c.kernel).not.toEqual(a.kernel);
    expect(d.kernel).not.toEqual(a.kernel);
  });

  it("weighs classes 'balanced' as scikit-learn does", () => {
    expect(resolveClassWeights('balanced', Int32Array.from([0, 0, 0, 1]), 2)).toEqual(Float32Array.from([4 / 6, 2]));
    expect(() => resolveClassWeights([1], labels, 2)).toThrow(/one finite weight >= 0 per class/);
  });

  it('resumes from an encoded checkpoint to exactly the weights of an uninterrupted fit', async () => {
    const options: FitOptions = { epochs: 4, batchSize: 8, optimizer: { kind: 'adam', learningRate: 0.05 }, validationSplit: 0.2, earlyStopping: { patience: 3, restoreBestWeights: true } };
    let saved: Uint8Array | null = null;
    const whole = await train({ ...options, onEpochEnd: (log, state) => { if (log.epoch === 1) saved = encodeCheckpoint(state(), { run: 'a' }); } });
    const checkpoint = decodeCheckpoint<{ run: string }>(saved!);
    expect(checkpoint.meta).toEqual({ run: 'a' });
    expect(checkpoint.state.epoch).toBe(2);
    const resumed = await train({ ...options, resumeFrom: checkpoint.state as TrainingState });
    expect(resumed.kernel).toEqual(whole.kernel);
    expect(resumed.history.history).toEqual(whole.history.history);
    expect(() => decodeCheckpoint(saved!.subarray(0, saved!.length - 4))).toThrow(/truncated/);
  });
});
