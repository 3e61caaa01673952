import { createXceptionFromValues, resolveXceptionConfig, type XceptionModel, type XceptionOptions } from '@xception/core';
import type { WeightsRegistry } from './imagenet-registry.js';
import { isKerasArchivePath, type SavedXceptionConfig } from './keras-archive.js';
import type { ProgressCallback } from './progress.js';
import { readWeights } from './weights-source.js';

export interface LoadXceptionOptions extends Omit<XceptionOptions, 'weights'> {
  /**
   * 'imagenet' (default, as in Keras: downloaded once into the cache), null (Keras' random
   * initialisation), or a Keras 3 .keras archive, a Keras .h5 file (Keras 2, or Keras 3's
   * .weights.h5 or legacy .h5), a tfjs model.json, a directory holding one, or a URL. A .keras
   * archive also gives the options it was saved with (includeTop, classes, inputShape, pooling,
   * classifierActivation) to every option left undefined here; given ones must fit its weights.
   */
  weights?: 'imagenet' | null | string | URL;
  /** Where 'imagenet' is cached. Default defaultCacheDir(). */
  cacheDir?: string;
  /** Download and read progress (the library draws nothing itself). */
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
  if (weights === null) return createXceptionFromValues({ ...resolveXceptionConfig({ ...kerasOptions, weights }), ...(seed === undefined ? {} : { seed }) }, null);
  const archive = weights !== 'imagenet' && isKerasArchivePath(weights.replace(/[?#].*$/, ''));
  // Keras' rules first, so nothing is downloaded for a configuration Keras would refuse. An
  // archive's own options fill the ones not given here, so its check waits for its config.
  let config = archive ? null : resolveXceptionConfig({ ...kerasOptions, weights });
  const wanted = config
    ? { includeTop: config.includeTop, ...(config.includeTop ? { classes: config.classes } : {}) }
    : { ...(kerasOptions.includeTop === undefined ? {} : { includeTop: kerasOptions.includeTop }), ...(kerasOptions.classes === undefined ? {} : { classes: kerasOptions.classes }) };
  const reading = await readWeights(weights, {
    ...wanted,
    ...(cacheDir ? { cacheDir } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(registry ? { registry } : {}),
    ...(env ? { env } : {}),
  });
  if ('savedConfig' in reading) {
    // The archive is a whole model, not pretrained weights for Xception(...): Keras' rule that
    // only softmax or null may top pretrained weights does not apply (load_model takes a
    // sigmoid head), so the model is built as from weights: null, with the archive's values.
    config = resolveXceptionConfig({ ...savedOptions(reading.savedConfig), ...definedOnly(kerasOptions), weights: null });
  }
  if (!config) throw new Error('loadXception: unreachable (a .keras path did not read as an archive)');
  return createXceptionFromValues(config, reading.values);
}

/** The options a .keras archive was saved with, as XceptionOptions. */
function savedOptions(saved: SavedXceptionConfig): XceptionOptions {
  return {
    includeTop: saved.includeTop,
    inputShape: saved.inputShape,
    ...(saved.includeTop ? { classes: saved.classes ?? 1000, classifierActivation: saved.classifierActivation } : { pooling: saved.pooling }),
  };
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
