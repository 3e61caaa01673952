import { createXceptionFromValues, resolveXceptionConfig, type XceptionModel, type XceptionOptions } from '@xception/core';
import { WeightsFileError } from '../errors.js';
import { readTfjsArtifacts, type BrowserReadOptions } from './read-tfjs-artifacts.js';

export interface LoadXceptionOptions extends Omit<XceptionOptions, 'weights'> {
  /**
   * The URL of a TensorFlow.js model.json (or of the folder holding it), as written by
   * `xception weights convert imagenet <dir> --to web`; null for Keras' random initialisation.
   * Browsers cannot read Keras' HDF5 files here, so there is no default.
   */
  weights: string | URL | null;
  /** Seed for the random initialisation when weights is null. */
  seed?: number;
  fetch?: BrowserReadOptions['fetch'];
  onProgress?: BrowserReadOptions['onProgress'];
}

/**
 * The browser's `loadXception`: Keras' rules checked first (nothing is fetched for a
 * configuration Keras would refuse), then the artifacts read, checked and mapped, and the model
 * built. Needs a registered tfjs backend (await tf.setBackend(...) / tf.ready() first).
 */
export async function loadXception(options: LoadXceptionOptions): Promise<XceptionModel> {
  const { weights, seed, fetch, onProgress, ...kerasOptions } = options;
  if (weights === null) return createXceptionFromValues({ ...resolveXceptionConfig({ ...kerasOptions, weights }), ...(seed === undefined ? {} : { seed }) }, null);
  const href = weights instanceof URL ? weights.href : String(weights);
  if (href === 'imagenet' || /\.(h5|keras)([?#]|$)/i.test(href)) {
    throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `weights: '${href}' ${href === 'imagenet' ? "names Keras' ImageNet HDF5 file" : 'is a Keras file'}, which browsers do not read here; convert it once with 'xception weights convert ${href} <dir> --to web', serve <dir>, and pass its model.json URL as weights.`, { url: href });
  }
  const config = resolveXceptionConfig({ ...kerasOptions, weights: href });
  const reading = await readTfjsArtifacts(weights, {
    includeTop: config.includeTop,
    ...(config.includeTop ? { classes: config.classes } : {}),
    ...(fetch ? { fetch } : {}),
    ...(onProgress ? { onProgress } : {}),
  });
  return createXceptionFromValues(config, reading.values);
}
