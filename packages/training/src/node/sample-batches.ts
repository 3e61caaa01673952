import { runImagePipeline, type EngineResult, type InferenceEngine, type PipelineCounts } from '@xception/runtime';
import type { Sample } from './class-folders.js';
import { TrainingError } from './training-error.js';

interface SampleRow { path: string; values: Float32Array }

/**
 * Every sample through @xception/runtime's image pipeline (decoding beside inference, bounded
 * queues), one value row per image taken from each batch's result by `pick`, in the samples'
 * order whatever order the batches finish in. An image that cannot be read stops the run.
 */
export async function runSampleBatches(
  samples: readonly Sample[],
  engine: InferenceEngine,
  o: { imageSize: number; batchSize: number; pick(result: EngineResult): Float32Array; onCounts?(counts: PipelineCounts): void },
): Promise<{ values: Float32Array; perImage: number }> {
  const indexOf = new Map(samples.map((s, i) => [s.path, i]));
  let values = new Float32Array(0);
  let perImage = 0;
  await runImagePipeline<SampleRow>({
    inputs: (async function* () { for (const s of samples) yield { path: s.path, ok: true as const }; })(),
    done: new Set<string>(),
    engine,
    batchSize: o.batchSize,
    imageSize: [o.imageSize, o.imageSize],
    toRows: (items, result) => {
      const all = o.pick(result);
      const size = all.length / items.length;
      return items.map((item, i) => ({ path: item.path, values: all.subarray(i * size, (i + 1) * size) }));
    },
    write: async (rows) => {
      for (const row of rows) {
        if ('error' in row) {
          throw new TrainingError('ERR_TRAIN_IMAGE', 'data', (w) => `${w.name('data')} image ${row.path} could not be read (${row.error.message}); fix or remove it.`);
        }
        if (perImage === 0) [perImage, values] = [row.values.length, new Float32Array(samples.length * row.values.length)];
        values.set(row.values, indexOf.get(row.path)! * perImage);
      }
    },
    ...(o.onCounts ? { onCounts: o.onCounts } : {}),
  });
  return { values, perImage };
}
