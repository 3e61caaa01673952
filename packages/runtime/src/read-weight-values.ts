import type { WeightValues } from '@xception/core';
import { readWeights } from '@xception/weights';
import type { OpenModelOptions } from './open-model.js';
import { weightsError } from './weights-error.js';

/**
 * The decoded values of `spec` as openModel() reads them, for a caller that needs the values
 * themselves (training's base, written again into the trained .keras file): null for null or
 * 'none'. A failure is a RuntimeError about `weights`, so each front door words it as it words openModel's.
 */
export async function readWeightValues(
  spec: string | null,
  options: Pick<OpenModelOptions, 'includeTop' | 'cacheDir' | 'env' | 'registry' | 'onProgress'> = {},
): Promise<WeightValues | null> {
  if (spec === null || spec === 'none') return null;
  const { includeTop = true, cacheDir, env, registry, onProgress } = options;
  try {
    return (await readWeights(spec, { includeTop, ...(cacheDir ? { cacheDir } : {}), ...(env ? { env } : {}), ...(registry ? { registry } : {}), ...(onProgress ? { onProgress } : {}) })).values;
  } catch (error) {
    throw weightsError(spec, error);
  }
}
