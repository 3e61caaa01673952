import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ClassifierActivation } from '@xception/core';
import { WeightsFileError } from './errors.js';
import { sha256OfFile } from './file-hashes.js';
import { readKerasArchiveConfig } from './keras-archive.js';
import { readKerasH5File } from './keras-h5-file.js';
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

/** Weights still in their file: what identifies the values, and how to decode them (@xception/engines' DeferredWeights). */
export interface DeferredWeightValues {
  /** `sha256:<the file's SHA-256>, top`: the same id, with the same reader code, means the same values. */
  readonly id: string;
  /** Reads the values (once: later calls give the same promise). */
  decode(): Promise<Map<string, WeightValue>>;
}

export interface OpenedClassifierWeights extends Omit<ClassifierWeightsReading, 'values'> {
  /**
   * The values: still in their file for a local .keras or .h5 (an engine decodes them when it
   * needs them; the onnx engine's cache hit does not), else read already.
   */
  readonly weights: DeferredWeightValues | Map<string, WeightValue>;
  /** The SHA-256 of the weights file (hex) where it was hashed, else null. */
  readonly sha256: string | null;
}

/**
 * readClassifierWeights() without decoding the values where that can wait: for a local .keras
 * archive (config.json says everything) or Keras .h5 file (the classifier's shape, read from the
 * file's metadata), the file is hashed and its values are read only by `weights.decode()`. Other
 * sources (tfjs model.json) are read at once. Errors of the file that only decoding finds come
 * from decode(), as readClassifierWeights' would.
 */
export async function openClassifierWeights(source: string | URL, options: ResolveSourceOptions & Omit<ReadWeightsOptions, 'includeTop'> = {}): Promise<OpenedClassifierWeights> {
  const { location, format } = await resolveWeightsSource(source, options);
  const read = (): Promise<ClassifierWeightsReading> => readClassifierWeights(location, options);
  const readNow = async (): Promise<OpenedClassifierWeights> => {
    const { values, ...rest } = await read();
    return { ...rest, weights: values, sha256: null };
  };
  if (format === 'tfjs-layers' || /^https?:\/\//i.test(location)) return readNow();
  const before = await stat(location);
  let about: Omit<ClassifierWeightsReading, 'values'>;
  if (format === 'keras') {
    const { savedConfig, metadata } = await readKerasArchiveConfig(location);
    if (!savedConfig.includeTop || (options.classes !== undefined && options.classes !== savedConfig.classes)) return readNow(); // its error, worded as always
    about = { classes: savedConfig.classes!, classNames: metadata.classNames, inputSize: savedConfig.inputShape[0], classifierActivation: savedConfig.classifierActivation };
  } else {
    const predictions = (await readKerasH5File(location, { values: false })).layers.find((l) => l.name === 'predictions');
    const classes = predictions?.weights.find((w) => /(^|\/)bias(:\d+)?$/.test(w.name))?.shape[0];
    if (classes === undefined || (options.classes !== undefined && options.classes !== classes)) return readNow();
    about = { classes, classNames: null, inputSize: null, classifierActivation: 'softmax' };
  }
  const sha256 = await weightsFileSha256(location);
  let decoding: Promise<Map<string, WeightValue>> | null = null;
  const decode = async (): Promise<Map<string, WeightValue>> => {
    const now = await stat(location);
    if (now.size !== before.size || now.mtimeMs !== before.mtimeMs || now.ino !== before.ino) {
      throw new WeightsFileError('ERR_WEIGHTS_CHANGED', `${location} changed while it was being read; load it again once it is written.`, { path: location });
    }
    const reading = await read();
    if (reading.classes !== about.classes) throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${location}: its classifier has ${reading.classes} classes, not the ${about.classes} its metadata said; save the model again.`, { path: location });
    return reading.values;
  };
  return { ...about, sha256, weights: { id: `sha256:${sha256}, top`, decode: () => (decoding ??= decode()) } };
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
  const sha256 = /^https?:\/\//i.test(resolved.location) ? createHash('sha256').update(resolved.location).digest('hex') : await weightsFileSha256(resolved.location);
  return `file:${name}#${sha256.slice(0, 12)}`;
}

const hashed = new Map<string, { size: number; mtimeMs: number; ino: number; sha256: string }>();

/**
 * A weights file's SHA-256, hashed once per process while the file is unchanged (its size,
 * modification time and inode): `xception tag` needs it for the model id and again for the
 * onnx cache key (openClassifierWeights), ~90 MB each time.
 */
async function weightsFileSha256(path: string): Promise<string> {
  const { size, mtimeMs, ino } = await stat(path);
  const known = hashed.get(path);
  if (known && known.size === size && known.mtimeMs === mtimeMs && known.ino === ino) return known.sha256;
  const sha256 = await sha256OfFile(path);
  hashed.set(path, { size, mtimeMs, ino, sha256 });
  return sha256;
}
