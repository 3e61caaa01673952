import * as tf from '@tensorflow/tfjs-core';
import { createDenseHead, foldHead } from './dense-head.js';
import { fit, type EpochLog } from './fit.js';
import { adaptNormalization } from './normalization.js';

export interface TeachTagOptions {
  /** Features (e.g. Xception's 2048-d pooled features, cached) of photos that carry the tag. */
  positives: readonly Float32Array[];
  /** Features of photos that do not. */
  negatives: readonly Float32Array[];
  /** Default 30. */
  epochs?: number;
  /** L2 on the head's kernel. Default 1e-3. */
  l2?: number;
  /** Adam's learning rate. Default 0.01. */
  learningRate?: number;
  seed?: number;
  /** Called after every epoch (awaited): an app yields to its event loop here, training blocks it otherwise. */
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
}

export interface TaughtTag {
  /** The probability that each photo carries the tag (0..1), from its features. */
  score(features: readonly Float32Array[]): number[];
  /** The head as one Dense layer (Normalization folded in): kernel [dims, 2] row-major, bias [2]; class 1 is the tag. */
  readonly weights: { kernel: Float32Array; bias: Float32Array };
  readonly history: readonly EpochLog[];
}

/**
 * "Teach a tag": a Normalization + Dense(2, softmax) head trained on the cached features of a
 * few hand-tagged photos against photos without the tag, classes weighed 'balanced' (a few
 * positives against many negatives), then a scorer for every other photo. Scoring needs no
 * tensors: the folded head is one dot product per class.
 */
export async function teachTag(options: TeachTagOptions): Promise<TaughtTag> {
  const { positives, negatives } = options;
  if (positives.length === 0 || negatives.length === 0) {
    throw new RangeError(`teachTag needs at least one positive and one negative example; got ${positives.length} and ${negatives.length}.`);
  }
  const dims = positives[0]!.length;
  const all = [...positives, ...negatives];
  if (all.some((f) => f.length !== dims)) throw new RangeError(`teachTag: every feature vector must have ${dims} values, as the first positive has.`);
  const count = all.length;
  const features = new Float32Array(count * dims);
  all.forEach((f, i) => features.set(f, i * dims));
  const labels = Int32Array.from(all, (_, i) => (i < positives.length ? 1 : 0));

  const normalization = adaptNormalization(features, count, dims);
  const head = createDenseHead({ classes: 2, normalization, l2: options.l2 ?? 1e-3, seed: options.seed ?? 0 });
  const x = tf.tensor2d(features, [count, dims]);
  try {
    const { history } = await fit(head, x, labels, {
      epochs: options.epochs ?? 30, batchSize: 32, optimizer: { kind: 'adam', learningRate: options.learningRate ?? 0.01 },
      classWeights: 'balanced', seed: options.seed ?? 0,
      ...(options.onEpochEnd ? { onEpochEnd: (log: EpochLog) => options.onEpochEnd!(log) } : {}),
    });
    const weights = foldHead({ normalization, kernel: head.kernel.dataSync() as Float32Array, bias: head.bias.dataSync() as Float32Array });
    return { ...restoreTaughtTag(weights), history };
  } finally {
    x.dispose();
    head.dispose();
  }
}

/**
 * A taught tag again from its folded head (TaughtTag.weights, as an app stored them): the same
 * scores, no tensors and no training history. Lets an app keep taught tags across restarts.
 */
export function restoreTaughtTag(weights: { kernel: Float32Array; bias: Float32Array }): TaughtTag {
  const dims = weights.kernel.length / 2;
  if (!Number.isInteger(dims) || dims < 1 || weights.bias.length !== 2) {
    throw new RangeError(`restoreTaughtTag: expected a kernel of [dims, 2] values and a bias of 2; got ${weights.kernel.length} and ${weights.bias.length}.`);
  }
  return {
    weights,
    history: [],
    score: (photos) => photos.map((f) => {
      if (f.length !== dims) throw new RangeError(`score: a feature vector has ${f.length} values; the tag was taught on ${dims}.`);
      let z0 = weights.bias[0]!;
      let z1 = weights.bias[1]!;
      for (let i = 0; i < dims; i++) {
        z0 += f[i]! * weights.kernel[i * 2]!;
        z1 += f[i]! * weights.kernel[i * 2 + 1]!;
      }
      return 1 / (1 + Math.exp(z0 - z1)); // softmax's class-1 share
    }),
  };
}
