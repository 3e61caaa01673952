import type * as tf from '@tensorflow/tfjs-core';
import { readCheckpointFile, writeCheckpointFile } from '../checkpoint.js';
import { fit, type FitOptions, type FitResult } from '../fit.js';
import type { TrainableModel } from '../trainable-model.js';
import type { RunFingerprint } from './run-fingerprint.js';
import type { TrainingProgress, TrainingStage } from './train-options.js';

/**
 * fit() checkpointed after every epoch to `path`, resumed from it when it was made by the same
 * run (the fingerprint): a killed run goes on after its last finished epoch, and ends with
 * exactly the weights of an uninterrupted one (fit.test.ts).
 */
export async function checkpointedFit(
  model: TrainableModel, x: tf.Tensor, labels: Int32Array, options: Omit<FitOptions, 'onEpochEnd' | 'resumeFrom'>,
  c: { path: string; fingerprint: RunFingerprint; stage: TrainingStage; onProgress(event: TrainingProgress): void },
): Promise<FitResult> {
  const checkpoint = await readCheckpointFile<RunFingerprint>(c.path).catch(() => null);
  const resume = checkpoint && JSON.stringify(checkpoint.meta) === JSON.stringify(c.fingerprint) ? checkpoint.state : undefined;
  if (resume) c.onProgress({ kind: 'resumed', stage: c.stage, epoch: resume.epoch, path: c.path });
  return fit(model, x, labels, {
    ...options,
    ...(resume ? { resumeFrom: resume } : {}),
    onEpochEnd: async (log, state) => {
      await writeCheckpointFile(c.path, state(), c.fingerprint);
      c.onProgress({ kind: 'epoch', stage: c.stage, epochs: options.epochs, log });
    },
  });
}
