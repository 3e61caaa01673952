import { createHash } from 'node:crypto';
import type { ClassifierActivation } from '@xception/core';
import { hashFile } from './file-hashes.js';
import type { ReadWeightsOptions } from './keras-h5.js';
import { savedInputShape } from './saved-input-shape.js';
import { readWeights, resolveWeightsSource, type ResolveSourceOptions } from './weights-source.js';
import type { WeightValue } from './xception-mapping.js';

/** Weights with the classifier top, and what a classifier needs to know about them. */
export interface ClassifierWeightsReading {
  readonly values: Map<string, WeightValue>;
  /** The classifier's width (1000 for ImageNet's, and for a file without a top). */
  readonly classes: number;
  /** A `.keras` archive's class names (`xception train` writes them); null for ImageNet's 1000 and for files without names. */
  readonly classNames: readonly string[] | null;
  /** The input side a `.keras` archive or a tfjs model.json was saved with (a 71x71 model: 71); null when the file does not say (.h5, 'imagenet': 299). */
  readonly inputSize: number | null;
  readonly classifierActivation: ClassifierActivation;
}

/**
 * readWeights() for a classifier: the top kept, and the classes, class names, input size and
 * activation a `.keras` archive was saved with. What `xception classify`/`tag`, the classifier
 * package and the desktop app each need before they start an engine.
 */
export async function readClassifierWeights(source: string | URL, options: ResolveSourceOptions & Omit<ReadWeightsOptions, 'includeTop'> = {}): Promise<ClassifierWeightsReading> {
  const reading = await readWeights(source, { ...options, includeTop: true });
  const saved = 'savedConfig' in reading ? reading : null;
  return {
    values: reading.values,
    classes: reading.classes ?? 1000,
    classNames: saved?.classNames ?? null,
    inputSize: savedInputShape(reading)?.[0] ?? null,
    classifierActivation: saved ? saved.savedConfig.classifierActivation : 'softmax',
  };
}

/**
 * The id a photo library records for the weights that tagged a photo (a sidecar's xcp:Model,
 * the feature cache's key): 'imagenet', 'random' for 'none', else `file:<name>#<sha256, 12 hex>`
 * of the file the source resolves to, so that another model saved under the same name (a
 * retrained model.keras) is another model and its predictions are never mixed with the old ones.
 */
export async function weightsModelId(source: string, options: Pick<ResolveSourceOptions, 'cacheDir' | 'env'> = {}): Promise<string> {
  if (source === 'none') return 'random';
  if (source === 'imagenet') return 'imagenet';
  const resolved = await resolveWeightsSource(source, options);
  const name = source.replace(/[?#].*$/, '').replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? source;
  // A model.json read in place from a server is named by its address (reading it is the download).
  const sha256 = /^https?:\/\//i.test(resolved.location) ? createHash('sha256').update(resolved.location).digest('hex') : (await hashFile(resolved.location)).sha256;
  return `file:${name}#${sha256.slice(0, 12)}`;
}
