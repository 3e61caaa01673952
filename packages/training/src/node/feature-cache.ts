import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WeightValues } from '@xception/core';
import { openModel } from '@xception/runtime';
import type { Sample } from './class-folders.js';
import type { RunFingerprint } from './run-fingerprint.js';
import { runSampleBatches } from './sample-batches.js';
import type { ResolvedTrainOptions } from './train-options.js';

/** Xception's pooled features per image. */
export const FEATURES = 2048;

/**
 * The pooled features of every sample, computed once by the engine and kept in the work folder
 * (`features.f32`, keyed by the samples, the weights and the size in `features.json`): a resumed
 * run reads them instead of running the engine again.
 */
export async function cachedFeatures(work: string, fingerprint: RunFingerprint, samples: readonly Sample[], base: WeightValues, o: ResolvedTrainOptions): Promise<Float32Array> {
  const featuresPath = join(work, 'features.f32');
  const metaPath = join(work, 'features.json');
  const key = JSON.stringify({ samples: fingerprint.samples, weights: fingerprint.weights, imageSize: fingerprint.imageSize });
  const cached = await readFile(metaPath, 'utf8').catch(() => null);
  if (cached === key && (await stat(featuresPath).catch(() => null))?.size === samples.length * FEATURES * 4) {
    o.onProgress({ kind: 'features-cached', images: samples.length, path: featuresPath });
    const bytes = await readFile(featuresPath);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
  const features = await computeFeatures(samples, base, o);
  await writeFile(featuresPath, features);
  await writeFile(metaPath, key);
  return features;
}

async function computeFeatures(samples: readonly Sample[], base: WeightValues, o: ResolvedTrainOptions): Promise<Float32Array> {
  const { engine } = await openModel(null, {
    engine: o.engine, includeTop: false, pooling: 'avg', imageSize: o.imageSize, values: base,
    log: (line) => o.onProgress({ kind: 'engine', line }), ...(o.threads ? { threads: o.threads } : {}),
  });
  const started = performance.now();
  const total = samples.length;
  try {
    o.onProgress({ kind: 'features-start', images: total, engine: engine.detail });
    const { values } = await runSampleBatches(samples, engine, {
      imageSize: o.imageSize, batchSize: o.batchSize, pick: (result) => result.features,
      onCounts: (counts) => o.onProgress({ kind: 'features', done: counts.done, total }),
    });
    return values;
  } finally {
    o.onProgress({ kind: 'features-end', images: total, seconds: (performance.now() - started) / 1000 });
    await engine.dispose();
  }
}
