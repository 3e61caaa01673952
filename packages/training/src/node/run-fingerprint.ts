import { createHash } from 'node:crypto';
import type { Sample } from './class-folders.js';
import type { ResolvedTrainOptions } from './train-options.js';

/** What the feature cache and the checkpoints were made from: a resume with anything else starts afresh. */
export interface RunFingerprint { samples: string; weights: string; imageSize: number; options: string }

export function fingerprintOf(samples: readonly Sample[], o: ResolvedTrainOptions): RunFingerprint {
  return {
    samples: sha256(samples.map((s) => `${s.label}\t${s.path}`).join('\n')),
    weights: o.weights === null ? `none:${o.seed}` : o.weights,
    imageSize: o.imageSize,
    options: JSON.stringify([o.epochs, o.learningRate, o.weightDecay, o.validationSplit, o.batchSize, o.optimizer, o.patience, o.seed, o.fineTuneFrom, o.fineTuneEpochs, o.fineTuneLearningRate]),
  };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
