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
