import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from '@xception/core';
import { resolveClassWeights, type ClassWeights } from './class-weights.js';
import { createOptimizer, type Optimizer, type OptimizerOptions, type OptimizerState } from './optimizers.js';
import type { PendingAssign, TrainableModel } from './trainable-model.js';

export type Monitor = 'loss' | 'accuracy' | 'val_loss' | 'val_accuracy';

/** Keras' EarlyStopping callback (mode 'auto': accuracies rise, losses fall). */
export interface EarlyStoppingOptions {
  /** Default 'val_loss' (Keras' default). */
  monitor?: Monitor;
  /** Epochs without improvement before stopping. Default 0. */
  patience?: number;
  /** The least change that counts as an improvement. Default 0. */
  minDelta?: number;
  /** Put back the weights of the best epoch when stopping. Default false, as in Keras. */
  restoreBestWeights?: boolean;
}

export interface EpochLog {
  /** 0-based, as Keras' on_epoch_end receives it. */
  readonly epoch: number;
  /** The batch losses (cross-entropy plus the L2 terms), averaged by batch size. */
  readonly loss: number;
  readonly accuracy: number;
  readonly val_loss?: number;
  readonly val_accuracy?: number;
}

/** Everything needed to continue a fit() after its last finished epoch (what a checkpoint holds). */
export interface TrainingState {
  /** The next epoch to run. */
  readonly epoch: number;
  /** model.variables' values, in order. */
  readonly variables: readonly Float32Array[];
  readonly optimizer: OptimizerState;
  readonly history: readonly EpochLog[];
  readonly earlyStopping: { best: number; wait: number; bestVariables: readonly Float32Array[] | null } | null;
}

export interface FitOptions {
  epochs: number;
  /** Default 32, as Keras. */
  batchSize?: number;
  /** Default SGD, learning rate 0.01 (Keras' defaults). */
  optimizer?: OptimizerOptions;
  /** One weight per class, or 'balanced'. */
  classWeights?: ClassWeights;
  /** Keras' validation_split: the LAST fraction of the samples (before any shuffling) is held out. */
  validationSplit?: number;
  /** Shuffle the training samples each epoch (seeded: the same seed gives the same order). Default true, as Keras. */
  shuffle?: boolean;
  seed?: number;
  earlyStopping?: EarlyStoppingOptions;
  /** Called after every epoch with its log and the state to checkpoint (awaited before the next epoch). */
  onEpochEnd?: (log: EpochLog, state: () => TrainingState) => void | Promise<void>;
  /** Continue from a checkpoint (Keras' initial_epoch plus the optimizer's and callbacks' state). */
  resumeFrom?: TrainingState;
}

export interface FitResult {
  readonly history: readonly EpochLog[];
  /** The epoch (0-based) at which early stopping ended the fit, or null. */
  readonly stoppedEpoch: number | null;
}

/**
 * Keras' `model.fit(x, y, ...)` for a TrainableModel with sparse integer labels and a softmax
 * cross-entropy loss: per batch, `mean(classWeight[y] * crossEntropy) + model.losses`, one
 * optimizer update, then BatchNorm's moving statistics. x stays the caller's.
 */
export async function fit(model: TrainableModel, x: tf.Tensor, labels: Int32Array, options: FitOptions): Promise<FitResult> {
  const count = x.shape[0]!;
  if (labels.length !== count) throw new RangeError(`fit: ${count} samples but ${labels.length} labels.`);
  for (const label of labels) {
    if (!(Number.isInteger(label) && label >= 0 && label < model.classes)) throw new RangeError(`fit: label ${label} is not a class index below ${model.classes}.`);
  }
  const batchSize = options.batchSize ?? 32;
  if (!Number.isInteger(options.epochs) || options.epochs < 0) throw new RangeError(`epochs is ${options.epochs}; it must be a whole number >= 0.`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize is ${batchSize}; it must be a whole number >= 1.`);

  const split = options.validationSplit ?? 0;
  if (!(split >= 0 && split < 1)) throw new RangeError(`validationSplit is ${split}; it must be in [0, 1).`);
  // Keras' train_validation_split: the first floor(n * (1 - split)) samples train.
  const trainCount = split > 0 ? Math.floor(count * (1 - split)) : count;
  if (split > 0 && (trainCount === 0 || trainCount === count)) {
    throw new RangeError(`validationSplit ${split} of ${count} samples leaves ${trainCount === 0 ? 'nothing to train on' : 'nothing to validate on'}; use more samples or another split.`);
  }
  const trainLabels = labels.subarray(0, trainCount);
  const sampleWeights = resolveClassWeights(options.classWeights, trainLabels, model.classes);

  const optimizer = createOptimizer(options.optimizer ?? { kind: 'sgd' });
  const history: EpochLog[] = [...(options.resumeFrom?.history ?? [])];
  const early = options.earlyStopping ? resolveEarlyStopping(options.earlyStopping, split > 0) : null;
  const resumedBest = options.resumeFrom?.earlyStopping?.best ?? NaN;
  let best = Number.isFinite(resumedBest) ? resumedBest : early?.mode === 'max' ? -Infinity : Infinity;
  let wait = options.resumeFrom?.earlyStopping?.wait ?? 0;
  let bestVariables: readonly Float32Array[] | null = options.resumeFrom?.earlyStopping?.bestVariables ?? null;
  if (options.resumeFrom) {
    assignAll(model.variables, options.resumeFrom.variables);
    optimizer.restore(options.resumeFrom.optimizer);
  }

  const snapshot = (): Float32Array[] => model.variables.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  let stoppedEpoch: number | null = null;
  try {
    for (let epoch = options.resumeFrom?.epoch ?? 0; epoch < options.epochs; epoch++) {
      const order = options.shuffle === false ? range(trainCount) : shuffled(trainCount, options.seed ?? 0, epoch);
      let lossSum = 0;
      let correct = 0;
      for (let start = 0; start < trainCount; start += batchSize) {
        const indices = order.subarray(start, Math.min(start + batchSize, trainCount));
        const { loss, hits } = trainStep(model, optimizer, x, labels, indices, sampleWeights);
        lossSum += loss * indices.length;
        correct += hits;
      }
      let log: EpochLog = { epoch, loss: lossSum / trainCount, accuracy: correct / trainCount };
      if (split > 0) log = { ...log, ...evaluate(model, x, labels, trainCount, count, batchSize) };
      history.push(log);

      let stop = false;
      if (early) {
        const current = log[early.monitor]!;
        // Keras' EarlyStopping.on_epoch_end: wait counts up, an improvement resets it.
        wait++;
        if (early.mode === 'max' ? current - early.minDelta > best : current + early.minDelta < best) {
          best = current;
          wait = 0;
          if (early.restoreBestWeights) bestVariables = snapshot();
        } else if (wait >= early.patience && epoch > 0) {
          stop = true;
          stoppedEpoch = epoch;
          if (early.restoreBestWeights && bestVariables) assignAll(model.variables, bestVariables);
        }
      }
      const state = (): TrainingState => ({
        epoch: stop ? options.epochs : epoch + 1,
        variables: snapshot(),
        optimizer: optimizer.state(),
        history: [...history],
        earlyStopping: early ? { best, wait, bestVariables } : null,
      });
      await options.onEpochEnd?.(log, state);
      if (stop) break;
    }
  } finally {
    optimizer.dispose();
  }
  return { history, stoppedEpoch };
}

function trainStep(
  model: TrainableModel, optimizer: Optimizer, x: tf.Tensor, labels: Int32Array, indices: Int32Array, sampleWeights: Float32Array | null,
): { loss: number; hits: number } {
  const updates: PendingAssign[] = [];
  const [loss, hits] = tf.tidy(() => {
    const batchX = tf.gather(x, tf.tensor1d(indices, 'int32'));
    const batchLabels = tf.tensor1d(Int32Array.from(indices, (i) => labels[i]!), 'int32');
    const weights = sampleWeights ? tf.tensor1d(Float32Array.from(indices, (i) => sampleWeights[labels[i]!]!)) : null;
    let logits: tf.Tensor2D | null = null;
    let value: tf.Scalar;
    if (model.lossAndGradients) {
      const own = model.lossAndGradients(batchX, batchLabels, weights);
      logits = tf.keep(own.logits);
      value = own.loss;
      optimizer.apply(model.trainableVariables, own.gradients);
    } else {
      const { value: loss, grads } = tf.variableGrads(() => {
        logits = tf.keep(model.logits(batchX, true, updates));
        return totalLoss(model, logits, batchLabels, weights);
      }, model.trainableVariables as tf.Variable[]);
      value = loss;
      optimizer.apply(model.trainableVariables, model.trainableVariables.map((v) => grads[v.name]!));
    }
    for (const { variable, value: next } of updates) variable.assign(next);
    const kept = logits as unknown as tf.Tensor2D;
    const hits = tf.sum(tf.cast(tf.equal(tf.argMax(kept, 1), batchLabels), 'int32')).dataSync()[0]!;
    kept.dispose(); // kept out of variableGrads' own tidy, so freed by hand
    return [value.dataSync()[0]!, hits];
  });
  tf.dispose(updates.map((u) => u.value));
  return { loss, hits };
}

/** Keras' sparse categorical cross-entropy on the softmax's logits, `sum_over_batch_size`, plus model.losses. */
export function totalLoss(model: TrainableModel, logits: tf.Tensor2D, labels: tf.Tensor1D, weights: tf.Tensor1D | null): tf.Scalar {
  const perSample = tf.neg(tf.sum(tf.mul(tf.oneHot(labels, model.classes), tf.logSoftmax(logits)), 1));
  const crossEntropy = tf.div(tf.sum(weights ? tf.mul(perSample, weights) : perSample), labels.shape[0]) as tf.Scalar;
  const penalty = model.regularizationLoss();
  return penalty ? tf.add(crossEntropy, penalty) : crossEntropy;
}

/** Loss (with the L2 terms, as Keras reports val_loss) and accuracy on samples [from, to), inference mode. */
function evaluate(model: TrainableModel, x: tf.Tensor, labels: Int32Array, from: number, to: number, batchSize: number): { val_loss: number; val_accuracy: number } {
  let lossSum = 0;
  let correct = 0;
  for (let start = from; start < to; start += batchSize) {
    const end = Math.min(start + batchSize, to);
    const [loss, hits] = tf.tidy(() => {
      const batchX = tf.slice(x, start, end - start);
      const batchLabels = tf.tensor1d(labels.subarray(start, end), 'int32');
      const logits = model.logits(batchX, false);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), batchLabels), 'int32'));
      return [totalLoss(model, logits, batchLabels, null).dataSync()[0]!, hits.dataSync()[0]!];
    });
    lossSum += loss * (end - start);
    correct += hits;
  }
  return { val_loss: lossSum / (to - from), val_accuracy: correct / (to - from) };
}

function resolveEarlyStopping(options: EarlyStoppingOptions, hasValidation: boolean): Required<EarlyStoppingOptions> & { mode: 'min' | 'max' } {
  const monitor = options.monitor ?? 'val_loss';
  if (monitor.startsWith('val_') && !hasValidation) {
    throw new RangeError(`earlyStopping monitors ${monitor}, which needs a validationSplit above 0; set one or monitor 'loss'.`);
  }
  const patience = options.patience ?? 0;
  if (!Number.isInteger(patience) || patience < 0) throw new RangeError(`earlyStopping.patience is ${patience}; it must be a whole number >= 0.`);
  return { monitor, patience, minDelta: Math.abs(options.minDelta ?? 0), restoreBestWeights: options.restoreBestWeights ?? false, mode: monitor.endsWith('accuracy') ? 'max' : 'min' };
}

function assignAll(variables: readonly tf.Variable[], values: readonly Float32Array[]): void {
  if (values.length !== variables.length) throw new RangeError(`the checkpoint holds ${values.length} variables; the model has ${variables.length}.`);
  variables.forEach((v, i) => {
    if (values[i]!.length !== v.size) throw new RangeError(`the checkpoint's variable ${i} holds ${values[i]!.length} values; the model's has ${v.size}.`);
    tf.tidy(() => v.assign(tf.tensor(values[i]!, v.shape, 'float32')));
  });
}

function range(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** A Fisher-Yates permutation seeded by (seed, epoch), so that a resumed fit sees the same orders. */
function shuffled(n: number, seed: number, epoch: number): Int32Array {
  const random = seededRandom((seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0);
  const order = range(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
