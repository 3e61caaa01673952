import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { resolveXceptionConfig, WeightValues } from '@xception/core';
import { activateBackend } from '@xception/engines';
import type { EngineResult, InferenceEngine } from '@xception/runtime';
import { preprocessInput } from '@xception/vision-utils';
import { ensureGradients } from '../register-gradients.js';
import type { EpochLog } from '../fit.js';
import { createTrainingGraph, type TrainingGraph } from '../training-graph.js';
import type { Sample } from './class-folders.js';
import { checkpointedFit } from './checkpointed-fit.js';
import type { RunFingerprint } from './run-fingerprint.js';
import { runSampleBatches } from './sample-batches.js';
import type { ResolvedTrainOptions } from './train-options.js';

/**
 * fineTuneFrom: Xception in training form from that block on (BatchNorm in inference mode),
 * started from the base and the trained head, fit on the activations entering that block (the
 * frozen part runs once per image, kept in memory), Adam at fineTuneLearningRate, checkpointed
 * per epoch like the head.
 */
export async function fineTune(
  o: ResolvedTrainOptions & { fineTuneFrom: NonNullable<ResolvedTrainOptions['fineTuneFrom']> },
  config: ReturnType<typeof resolveXceptionConfig>, values: WeightValues, samples: readonly Sample[],
  c: { fingerprint: RunFingerprint; work: string },
): Promise<{ values: WeightValues; history: readonly EpochLog[] }> {
  await ensureGradients();
  await activateBackend('wasm');
  // BatchNorm in inference mode (Keras' fine-tuning guide), and no L2: weightDecay weighed the
  // head's kernel before Normalization was folded into it, and Xception's own layers have none.
  const graph = createTrainingGraph({ config, values, trainableFrom: o.fineTuneFrom, batchNorm: 'inference' });
  let boundary: tf.Tensor | null = null;
  try {
    let shape: number[] = [];
    const pick = (result: EngineResult): Float32Array => { shape = result.outputShape.slice(1); return result.output; };
    const frozen = await runSampleBatches(samples, frozenPart(graph, o.imageSize), { imageSize: o.imageSize, batchSize: o.batchSize, pick });
    boundary = tf.tensor(frozen.values, [samples.length, ...shape]);
    o.onProgress({ kind: 'fine-tune-start', layers: graph.trainableLayers.length, from: o.fineTuneFrom, boundary: graph.boundary, images: samples.length });
    const { history } = await checkpointedFit(graph, boundary, Int32Array.from(samples, (s) => s.label), {
      epochs: o.fineTuneEpochs, batchSize: o.batchSize, optimizer: { kind: 'adam', learningRate: o.fineTuneLearningRate }, validationSplit: o.validationSplit, seed: o.seed,
    }, { path: join(c.work, 'fine-tune-checkpoint.bin'), fingerprint: c.fingerprint, stage: 'fine-tune', onProgress: o.onProgress });
    return { values: graph.values(), history };
  } finally {
    boundary?.dispose();
    graph.dispose();
  }
}

/**
 * The graph's frozen part as an engine for @xception/runtime's pipeline (one batch at a time,
 * on this thread): its output is the activations at the boundary, row-major per image.
 */
function frozenPart(graph: TrainingGraph, side: number): InferenceEngine {
  return {
    name: 'wasm',
    detail: `the frozen part of Xception up to ${graph.boundary} (tfjs wasm)`,
    parallelism: 1,
    run: async ({ pixels, count }) => {
      const activations = tf.tidy(() => graph.frozenForward(tf.tensor4d(preprocessInput(pixels as Uint8Array), [count, side, side, 3])));
      try {
        return { output: (await activations.data()) as Float32Array, outputShape: activations.shape, features: new Float32Array(0) };
      } finally {
        activations.dispose();
      }
    },
    dispose: async () => undefined,
  };
}
