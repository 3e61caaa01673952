import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { expectedWeights, kerasInitialWeights, resolveXceptionConfig, type WeightValues } from '@xception/core';
import { activateBackend } from '@xception/engines';
import { readWeightValues } from '@xception/runtime';
import { writeKerasArchive } from '@xception/weights';
import { createDenseHead, foldHead } from '../dense-head.js';
import type { EpochLog } from '../fit.js';
import { adaptNormalization } from '../normalization.js';
import type { OptimizerOptions } from '../optimizers.js';
import { listClassFolders, type Sample } from './class-folders.js';
import { checkpointedFit } from './checkpointed-fit.js';
import { cachedFeatures, FEATURES } from './feature-cache.js';
import { fineTune } from './fine-tune.js';
import { fingerprintOf, type RunFingerprint } from './run-fingerprint.js';
import { resolveTrainOptions, type ResolvedTrainOptions, type TrainClassifierOptions, type TrainedClassifier } from './train-options.js';
import { TrainingError } from './training-error.js';

/**
 * Trains Xception for the classes of a folder and writes it as a Keras 3 .keras archive
 * (Xception(classes=N) with the class names), the whole recipe: the classes are `data`'s
 * sub-folders (Keras' image_dataset_from_directory, shuffled with `seed`, the last
 * `validationSplit` held out); the engine computes the pooled features once (cached in
 * `<out>.training`); a Normalization + Dense(softmax) head with L2 trains on them with Keras'
 * fit() semantics, checkpointed after every epoch (a killed run resumes); the head is folded
 * into Xception's 'predictions' layer; with `fineTuneFrom`, the last blocks are fine-tuned.
 * A user's mistake is a TrainingError (or @xception/runtime's RuntimeError for the weights and
 * the engine); the work folder is removed once the model is written.
 */
export async function trainClassifier(options: TrainClassifierOptions): Promise<TrainedClassifier> {
  const o = resolveTrainOptions(options);
  const { classNames, samples } = await listClassFolders(o.data, o.seed);
  const work = `${o.out}.training`;
  await makeFolder(work);
  const base = await baseWeights(o);
  const fingerprint = fingerprintOf(samples, o);
  const features = await cachedFeatures(work, fingerprint, samples, base, o);
  const { trainCount, folded, history } = await trainHead(features, samples, classNames.length, o, { fingerprint, work });
  const config = resolveXceptionConfig({ weights: null, classes: classNames.length, inputShape: [o.imageSize, o.imageSize, 3] });
  let values: WeightValues = new Map([...base,
    ['predictions/kernel', { shape: [FEATURES, classNames.length], values: folded.kernel }],
    ['predictions/bias', { shape: [classNames.length], values: folded.bias }]]);
  let fineTuneHistory: readonly EpochLog[] = [];
  if (o.fineTuneFrom) ({ values, history: fineTuneHistory } = await fineTune({ ...o, fineTuneFrom: o.fineTuneFrom }, config, values, samples, { fingerprint, work }));
  await writeKerasArchive(o.out, { config, values, classNames });
  await rm(work, { recursive: true, force: true });
  return { out: o.out, classNames, trainCount, validationCount: samples.length - trainCount, history, fineTuneHistory };
}

/** The head on the cached features, checkpointed per epoch, then folded into one Dense layer. */
async function trainHead(
  features: Float32Array, samples: readonly Sample[], classes: number, o: ResolvedTrainOptions, c: { fingerprint: RunFingerprint; work: string },
): Promise<{ trainCount: number; folded: { kernel: Float32Array; bias: Float32Array }; history: readonly EpochLog[] }> {
  await activateBackend('cpu');
  const count = samples.length;
  const trainCount = o.validationSplit > 0 ? Math.floor(count * (1 - o.validationSplit)) : count;
  if (trainCount < 1 || (trainCount === count && o.validationSplit > 0)) {
    throw new TrainingError('ERR_TRAIN_DATA', 'validationSplit', (w) =>
      `${w.option('validationSplit', String(o.validationSplit))} of ${count} images leaves ${trainCount < 1 ? 'nothing to train on' : 'nothing to validate on'}; add images or change ${w.name('validationSplit')}.`);
  }
  const normalization = adaptNormalization(features.subarray(0, trainCount * FEATURES), trainCount, FEATURES);
  const head = createDenseHead({ classes, normalization, l2: o.weightDecay, seed: o.seed });
  const x = tf.tensor2d(features, [count, FEATURES]);
  const optimizer: OptimizerOptions = o.optimizer === 'sgd'
    ? { kind: 'sgd', learningRate: o.learningRate ?? 0.01, momentum: 0.9 }
    : { kind: 'adam', learningRate: o.learningRate ?? 0.001 };
  try {
    const { history } = await checkpointedFit(head, x, Int32Array.from(samples, (s) => s.label), {
      epochs: o.epochs, batchSize: o.batchSize, optimizer, validationSplit: o.validationSplit, seed: o.seed,
      ...(o.patience !== undefined ? { earlyStopping: { monitor: o.validationSplit > 0 ? 'val_loss' : 'loss', patience: o.patience, restoreBestWeights: true } } : {}),
    }, { path: join(c.work, 'checkpoint.bin'), fingerprint: c.fingerprint, stage: 'head', onProgress: o.onProgress });
    const folded = foldHead({ normalization, kernel: head.kernel.dataSync() as Float32Array, bias: head.bias.dataSync() as Float32Array });
    return { trainCount, folded, history };
  } finally {
    x.dispose();
    head.dispose();
  }
}

/** The base without its top: the weights read (a RuntimeError about `weights` when they cannot be), or Keras' seeded initialisation. */
async function baseWeights(o: ResolvedTrainOptions): Promise<WeightValues> {
  const read = await readWeightValues(o.weights, { includeTop: false, onProgress: (event) => o.onProgress({ kind: 'weights', event }) });
  if (read) return read;
  return kerasInitialWeights(expectedWeights(resolveXceptionConfig({ weights: null, includeTop: false, pooling: 'avg', inputShape: [o.imageSize, o.imageSize, 3] })), o.seed);
}

/**
 * mkdir -p. Node's recursive mkdir reports ENOENT where the file system is read-only (it stats
 * the path after EROFS); a plain mkdir then says why.
 */
async function makeFolder(path: string): Promise<void> {
  await mkdir(path, { recursive: true }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    await mkdir(path);
  });
}
