import { createXceptionFromValues, resolveXceptionConfig, type XceptionModel, type XceptionOptions } from '@xception/core';
import type { WeightsRegistry } from './imagenet-registry.js';
import type { ProgressCallback } from './progress.js';
import { readWeights } from './weights-source.js';

export interface LoadXceptionOptions extends Omit<XceptionOptions, 'weights'> {
  /**
   * 'imagenet' (default, as in Keras: downloaded once into the cache), null (Keras' random
   * initialisation), or a Keras .h5 file, a tfjs model.json, a directory holding one, or a URL.
   */
  weights?: 'imagenet' | null | string | URL;
  /** Where 'imagenet' is cached. Default defaultCacheDir(). */
  cacheDir?: string;
  /** Download and read progress; without it a progress bar shows on a terminal. */
  onProgress?: ProgressCallback;
  /** Seed for the random initialisation when weights is null. */
  seed?: number;
  /** Another registry of ImageNet files (mirrors, tests). */
  registry?: WeightsRegistry;
  /** Environment for HTTP(S)_PROXY / NO_PROXY. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Keras' `Xception(weights=..., include_top=..., ...)` in one call: Keras' rules are checked
 * first (nothing is downloaded for a configuration Keras would refuse), then the weights are
 * fetched or read, checked and mapped, and the model built. Needs a registered tfjs backend.
 */
export async function loadXception(options: LoadXceptionOptions = {}): Promise<XceptionModel> {
  const { cacheDir, onProgress, registry, env, seed, ...kerasOptions } = options;
  const weights = options.weights === undefined ? 'imagenet' : options.weights instanceof URL ? options.weights.href : options.weights;
  const config = resolveXceptionConfig({ ...kerasOptions, weights });
  if (weights === null) return createXceptionFromValues({ ...config, ...(seed === undefined ? {} : { seed }) }, null);
  const reading = await readWeights(weights, {
    includeTop: config.includeTop,
    ...(config.includeTop ? { classes: config.classes } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(registry ? { registry } : {}),
    ...(env ? { env } : {}),
  });
  return createXceptionFromValues(config, reading.values);
}
