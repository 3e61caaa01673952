import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from '@xception/core';
import { NORMALIZATION_EPSILON, type NormalizationStats } from './normalization.js';
import type { TrainableModel } from './trainable-model.js';

export interface DenseHeadOptions {
  /** The number of classes (Dense units). */
  classes: number;
  /** Keras' Normalization statistics (adaptNormalization() on the training features). */
  normalization: NormalizationStats;
  /** Keras' `kernel_regularizer=l2(l2)`: adds `l2 * sum(kernel^2)` to the loss. Default 0. */
  l2?: number;
  /** Starting weights (kernel [features, classes] row-major, bias [classes]); default glorot_uniform (seeded) and zeros, as Keras. */
  initialWeights?: { kernel: Float32Array; bias: Float32Array };
  /** Seed for the default initial kernel. Default 0. */
  seed?: number;
}

export interface DenseHead extends TrainableModel {
  readonly features: number;
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
  readonly normalization: NormalizationStats;
}

/**
 * The head Keras users put on pooled features: `Normalization()` (fixed after adapt) followed by
 * `Dense(classes, activation='softmax', kernel_regularizer=l2(l2))`. logits() returns the Dense
 * layer's pre-softmax values; fit() takes the softmax inside the cross-entropy, as Keras does.
 */
export function createDenseHead(options: DenseHeadOptions): DenseHead {
  const features = options.normalization.mean.length;
  const { classes } = options;
  const l2 = options.l2 ?? 0;
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`classes is ${classes}; a softmax head needs at least 2 classes.`);
  if (!(Number.isFinite(l2) && l2 >= 0)) throw new RangeError(`l2 is ${l2}; it must be a finite number >= 0.`);
  const initial = options.initialWeights ?? glorotUniform(features, classes, options.seed ?? 0);
  if (initial.kernel.length !== features * classes || initial.bias.length !== classes) {
    throw new RangeError(`initialWeights must hold a [${features}, ${classes}] kernel and a [${classes}] bias.`);
  }
  const mean = tf.tensor1d(options.normalization.mean, 'float32');
  const std = tf.tidy(() => tf.maximum(tf.sqrt(tf.tensor1d(options.normalization.variance, 'float32')), NORMALIZATION_EPSILON));
  const kernel = tf.tidy(() => tf.variable(tf.tensor2d(initial.kernel, [features, classes], 'float32'), true));
  const bias = tf.tidy(() => tf.variable(tf.tensor1d(initial.bias, 'float32'), true));
  return {
    classes,
    features,
    kernel,
    bias,
    normalization: options.normalization,
    trainableVariables: [kernel, bias],
    variables: [kernel, bias],
    logits: (x) => tf.tidy(() => tf.add(tf.matMul(tf.div(tf.sub(x, mean), std) as tf.Tensor2D, kernel), bias)),
    // Softmax cross-entropy's gradient in closed form, so that the head trains in plain Node
    // (see TrainableModel): d loss / d logits = weight * (softmax - onehot) / batch.
    lossAndGradients: (x, labels, sampleWeights) => {
      const normalized = tf.div(tf.sub(x, mean), std) as tf.Tensor2D;
      const logits = tf.add(tf.matMul(normalized, kernel), bias) as tf.Tensor2D;
      const batch = x.shape[0]!;
      const perSample = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, classes), tf.logSoftmax(logits)), 1));
      const weighted = sampleWeights ? tf.mul(perSample, sampleWeights) : perSample;
      let loss = tf.div(tf.sum(weighted), batch) as tf.Scalar;
      let dLogits = tf.div(tf.sub(tf.softmax(logits), tf.oneHot(labels, classes)), batch) as tf.Tensor2D;
      if (sampleWeights) dLogits = tf.mul(dLogits, tf.reshape(sampleWeights, [batch, 1]));
      let dKernel = tf.matMul(normalized, dLogits, true, false);
      if (l2 !== 0) {
        loss = tf.add(loss, tf.mul(tf.sum(tf.square(kernel)), l2));
        dKernel = tf.add(dKernel, tf.mul(kernel, 2 * l2));
      }
      return { loss, gradients: [dKernel, tf.sum(dLogits, 0)], logits };
    },
    regularizationLoss: () => (l2 === 0 ? null : tf.tidy(() => tf.mul(tf.sum(tf.square(kernel)), l2) as tf.Scalar)),
    dispose: () => tf.dispose([mean, std, kernel, bias]),
  };
}

/** Keras' glorot_uniform for a [fanIn, fanOut] kernel, from our seeded generator. */
function glorotUniform(fanIn: number, fanOut: number, seed: number): { kernel: Float32Array; bias: Float32Array } {
  const random = seededRandom(seed);
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return { kernel: Float32Array.from({ length: fanIn * fanOut }, () => (random() * 2 - 1) * limit), bias: new Float32Array(fanOut) };
}

/**
 * The head as one Dense layer: Normalization folded into the kernel and bias, so that
 * `x @ kernel' + bias'` equals `((x - mean) / std) @ kernel + bias`. Xception's own
 * `predictions` layer takes it, so the trained model is Keras' Xception(classes=...) with new
 * weights, which every loader of Xception files reads (float64 sums, rounded once).
 */
export function foldHead(head: { normalization: NormalizationStats; kernel: Float32Array; bias: Float32Array }): { kernel: Float32Array; bias: Float32Array } {
  const { mean, variance } = head.normalization;
  const features = mean.length;
  const classes = head.bias.length;
  const kernel = new Float32Array(features * classes);
  const bias = Float64Array.from(head.bias);
  for (let i = 0; i < features; i++) {
    const std = Math.max(Math.sqrt(variance[i]!), NORMALIZATION_EPSILON);
    for (let j = 0; j < classes; j++) {
      const w = head.kernel[i * classes + j]! / std;
      kernel[i * classes + j] = w;
      bias[j] = bias[j]! - mean[i]! * w;
    }
  }
  return { kernel, bias: Float32Array.from(bias) };
}
