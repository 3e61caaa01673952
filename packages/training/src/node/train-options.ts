import type { EngineChoice } from '@xception/runtime';
import type { ProgressCallback as WeightsProgressCallback } from '@xception/weights';
import type { EpochLog } from '../fit.js';
import type { TrainableFrom } from '../trainable-from.js';
import { TrainingError } from './training-error.js';

export interface TrainClassifierOptions {
  /** A folder with one sub-folder of images per class (Keras' image_dataset_from_directory). */
  data: string;
  /** Where the model goes: a Keras 3 .keras archive. Its work folder (`<out>.training`) sits beside it until the end. */
  out: string;
  /** The base: 'imagenet' (default), a notop-capable .keras / .h5 / model.json, or null / 'none' (Keras' seeded initialisation, for tests). */
  weights?: string | null;
  /** The engine that computes the features (@xception/runtime's openModel). Default 'auto'. */
  engine?: EngineChoice;
  /** The model's input side. Default 299. */
  imageSize?: number;
  threads?: number;
  /** Default 20. */
  epochs?: number;
  /** Default: adam 0.001, sgd 0.01. */
  learningRate?: number;
  /** L2 on the head's kernel, added to the loss (Keras' kernel_regularizer=l2). Default 1e-4. */
  weightDecay?: number;
  /** The last fraction of the shuffled images, held out for validation: at least 0, below 1. Default 0.2. */
  validationSplit?: number;
  /** Images per training batch and per feature batch. Default 32. */
  batchSize?: number;
  /** 'adam' (default), or 'sgd' with momentum 0.9. */
  optimizer?: 'adam' | 'sgd';
  /** Stop after this many epochs without a better val_loss (loss without validation), restoring the best weights. */
  patience?: number;
  /** Shuffling and initial weights. Default 0. */
  seed?: number;
  /** After the head: fine-tune the layers from this block on (BatchNorm in inference mode). */
  fineTuneFrom?: TrainableFrom;
  /** Default 2. */
  fineTuneEpochs?: number;
  /** Adam's learning rate for fine-tuning. Default 1e-4. */
  fineTuneLearningRate?: number;
  /** What the run is doing, for a progress bar or a log. */
  onProgress?: (event: TrainingProgress) => void;
}

/** A stage of training: the head on cached features, then (fineTuneFrom) the last blocks. */
export type TrainingStage = 'head' | 'fine-tune';

export type TrainingProgress =
  /** Reading (or downloading) the base weights, as @xception/weights reports it. */
  | { kind: 'weights'; event: Parameters<WeightsProgressCallback>[0] }
  /** A line about the engine choice ('engine: onnx not used (…); trying tfjs-node'). */
  | { kind: 'engine'; line: string }
  | { kind: 'features-cached'; images: number; path: string }
  | { kind: 'features-start'; images: number; engine: string }
  | { kind: 'features'; done: number; total: number }
  /** The feature pass ended (also when it failed). */
  | { kind: 'features-end'; images: number; seconds: number }
  | { kind: 'resumed'; stage: TrainingStage; epoch: number; path: string }
  | { kind: 'fine-tune-start'; layers: number; from: TrainableFrom; boundary: string; images: number }
  /** An epoch ended and its checkpoint is written: a run killed from here on resumes after it. */
  | { kind: 'epoch'; stage: TrainingStage; epochs: number; log: EpochLog };

export interface TrainedClassifier {
  out: string;
  classNames: string[];
  trainCount: number;
  validationCount: number;
  /** The head's epochs (the last one resumed from a checkpoint included only when run). */
  history: readonly EpochLog[];
  /** Fine-tuning's epochs; empty without fineTuneFrom. */
  fineTuneHistory: readonly EpochLog[];
}

/** The options with their defaults, checked. */
export type ResolvedTrainOptions = Required<Omit<TrainClassifierOptions, 'learningRate' | 'patience' | 'threads' | 'fineTuneFrom' | 'onProgress' | 'weights'>>
  & Pick<TrainClassifierOptions, 'learningRate' | 'patience' | 'threads' | 'fineTuneFrom'>
  & { weights: string | null; onProgress: (event: TrainingProgress) => void };

/** Fills in the defaults and refuses what cannot train, before anything is read. */
export function resolveTrainOptions(o: TrainClassifierOptions): ResolvedTrainOptions {
  if (!/\.keras$/i.test(o.out)) throw new TrainingError('ERR_TRAIN_OUT', 'out', (w) => `${w.option('out', o.out)} must name a Keras 3 .keras file (model.keras).`);
  const validationSplit = o.validationSplit ?? 0.2;
  if (!(validationSplit >= 0 && validationSplit < 1)) {
    throw new TrainingError('ERR_TRAIN_OPTION', 'validationSplit', (w) => `${w.name('validationSplit')} must be at least 0 and below 1; got ${validationSplit}.`);
  }
  return {
    ...o,
    weights: o.weights === undefined ? 'imagenet' : o.weights === 'none' ? null : o.weights,
    engine: o.engine ?? 'auto',
    imageSize: o.imageSize ?? 299,
    epochs: o.epochs ?? 20,
    weightDecay: o.weightDecay ?? 1e-4,
    validationSplit,
    batchSize: o.batchSize ?? 32,
    optimizer: o.optimizer ?? 'adam',
    seed: o.seed ?? 0,
    fineTuneEpochs: o.fineTuneEpochs ?? 2,
    fineTuneLearningRate: o.fineTuneLearningRate ?? 1e-4,
    onProgress: o.onProgress ?? (() => undefined),
  };
}
