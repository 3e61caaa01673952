import type * as tf from '@tensorflow/tfjs-core';

/** A moving statistic (BatchNorm's moving mean or variance) and the value it takes after the step. */
export interface PendingAssign {
  readonly variable: tf.Variable;
  readonly value: tf.Tensor;
}

/**
 * What fit() trains: a function from a batch to class logits, its trainable variables, and the
 * L2 terms that Keras adds to the loss (`model.losses`). Both the head on cached features and
 * the fine-tuned graph are one.
 */
export interface TrainableModel {
  readonly classes: number;
  /** The variables the optimizer updates, in a fixed order (the optimizer's slots follow it). */
  readonly trainableVariables: readonly tf.Variable[];
  /** Every variable a checkpoint must keep: the trainable ones, then moving statistics. */
  readonly variables: readonly tf.Variable[];
  /**
   * Logits for a batch. With `training`, BatchNorm layers normalise by the batch's statistics and
   * push the moving-statistics updates (kept tensors) to `updates`, applied after the step.
   */
  logits(x: tf.Tensor, training: boolean, updates?: PendingAssign[]): tf.Tensor2D;
  /**
   * The batch loss (as fit() defines it), its gradients for trainableVariables (same order) and
   * the logits, computed in closed form. Optional: without it fit() differentiates logits() with
   * tfjs-core's autodiff, whose gradient functions are registered only where
   * `@tensorflow/tfjs-core/dist/register_all_gradients` loads (bundlers, @tensorflow/tfjs; not
   * plain Node, where tfjs-core's CommonJS build leaves them out).
   */
  lossAndGradients?(x: tf.Tensor, labels: tf.Tensor1D, sampleWeights: tf.Tensor1D | null): { loss: tf.Scalar; gradients: tf.Tensor[]; logits: tf.Tensor2D };
  /** Keras' `model.losses`: the sum of every kernel regularizer's penalty, or null without any. */
  regularizationLoss(): tf.Scalar | null;
  dispose(): void;
}
