import type { EngineChoice } from '@xception/runtime';
import type { TrainableFrom } from '@xception/training';
import { trainClassifier, type TrainedClassifier } from '@xception/training/node';
import { EXIT } from '../cli-error.js';
import { inOutputWords } from '../output-words.js';
import { trainProgressPrinter } from '../train-progress-printer.js';

export interface TrainOptions {
  data: string;
  out: string;
  epochs: number;
  lr?: number;
  weightDecay: number;
  valSplit: number;
  batchSize: number;
  optimizer: 'adam' | 'sgd';
  patience?: number;
  weights: string;
  engine: EngineChoice;
  imageSize: number;
  threads?: number;
  seed: number;
  quiet: boolean;
  /** After the head: fine-tune from this block on (BatchNorm in inference mode). */
  fineTuneFrom?: TrainableFrom;
  fineTuneEpochs: number;
  fineTuneLr: number;
}

/**
 * `xception train`: @xception/training's trainClassifier() on the flags, its progress drawn on
 * stderr (a bar for the feature pass, a line per epoch), and one summary line. Its errors are
 * said in flags by the CLI's one hook (flag-words.ts); an output's file-system error here.
 */
export async function trainCommand(o: TrainOptions, say: (line: string) => void): Promise<number> {
  const progress = trainProgressPrinter({ quiet: o.quiet, say });
  try {
    const trained = await trainClassifier({
      data: o.data, out: o.out, weights: o.weights, engine: o.engine, imageSize: o.imageSize, threads: o.threads,
      epochs: o.epochs, learningRate: o.lr, weightDecay: o.weightDecay, validationSplit: o.valSplit, batchSize: o.batchSize,
      optimizer: o.optimizer, patience: o.patience, seed: o.seed,
      fineTuneFrom: o.fineTuneFrom, fineTuneEpochs: o.fineTuneEpochs, fineTuneLearningRate: o.fineTuneLr,
      onProgress: progress.onProgress,
    });
    say(summary(trained));
    return EXIT.ok;
  } catch (error) {
    throw inOutputWords(error, '--out', o.out);
  } finally {
    progress.stop();
  }
}

function summary(t: TrainedClassifier): string {
  const accuracy = t.history.at(-1)?.val_accuracy;
  return `trained ${t.classNames.length} classes (${t.classNames.join(', ')}) on ${t.trainCount} images${t.validationCount > 0 ? `, validated on ${t.validationCount}` : ''}`
    + `${accuracy !== undefined ? `: val_accuracy ${accuracy.toFixed(4)}` : ''}; model in ${t.out}`;
}
