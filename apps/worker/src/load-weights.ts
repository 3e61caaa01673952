import type { WeightValues } from '@xception/core';
import { readWeights } from '@xception/weights';
import { withDownloadBar } from './download-bar.js';

/**
 * `--weights`: 'imagenet' (downloaded once into the cache, with a progress bar on a terminal),
 * a Keras 3 .keras archive, a Keras .h5 (Keras 2, or Keras 3's .weights.h5 or legacy .h5), a
 * tfjs model.json, a folder holding one, a URL, or 'none' (Keras' random initialisation: for
 * tests and timing only).
 */
export async function loadWeightValues(spec: string, options: { includeTop: boolean }): Promise<WeightValues | null> {
  if (spec === 'none') return null;
  return (await withDownloadBar((onProgress) => readWeights(spec, { includeTop: options.includeTop, onProgress }))).values;
}
