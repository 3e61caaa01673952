import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classNameProblem, type ClassifierActivation, type XceptionPooling } from '@xception/core';
import { WeightsFileError } from './errors.js';
import { readKerasH5, type ReadWeightsOptions, type XceptionWeightsReading } from './keras-h5.js';
import { endOfDirectory, readZipEntries, ZipEntryTooLargeError } from './zip-entries.js';

/** The Xception options a `.keras` archive's config.json was saved with. */
export interface SavedXceptionConfig {
  readonly includeTop: boolean;
  /** The classifier's width, or null without a top. */
  readonly classes: number | null;
  readonly inputShape: readonly [number | null, number | null, 3];
  readonly pooling: XceptionPooling;
  /** The classifier's activation ('linear' reads as null), or null without a top. */
  readonly classifierActivation: ClassifierActivation;
}

export interface KerasArchiveReading extends XceptionWeightsReading {
  readonly format: 'keras';
  readonly savedConfig: SavedXceptionConfig;
  /** metadata.json's `class_names` when it holds one string per class (Keras itself writes none). */
  readonly classNames: readonly string[] | null;
  readonly kerasVersion: string | null;
}

const ZIP_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];

/**
 * The most each entry of a real Xception archive can need once inflated: Keras' config.json for
 * Xception is about 60 KB and its metadata.json under 1 KB (64 MiB also stays far below V8's
 * longest string, which a larger JSON text crashes on); model.weights.h5 is 88 MB with the
 * 1000-class top, and 1 GiB leaves room for a top of some 100,000 classes.
 */
const ENTRY_CAPS: Record<string, number> = { 'config.json': 64 * 2 ** 20, 'metadata.json': 64 * 2 ** 20, 'model.weights.h5': 2 ** 30 };

/** Whether a path names a Keras 3 archive by its extension (how Keras itself tells them apart). */
export function isKerasArchivePath(path: string): boolean {
  return /\.keras$/i.test(path);
}

/**
 * Reads a Keras 3 `.keras` archive (`model.save('x.keras')`): the zip's config.json is checked to
 * be Keras' Xception and gives the options it was saved with; model.weights.h5 (Keras 3's
 * weights layout) gives the weights, mapped and checked as every other source is.
 */
export async function readKerasArchive(path: string, options: ReadWeightsOptions = {}): Promise<KerasArchiveReading> {
  const { savedConfig, metadata, weights } = await readKerasArchiveConfig(path);
  const fail = (message: string): never => {
    throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${path}: ${message}`, { path });
  };
  const dir = await mkdtemp(join(tmpdir(), 'xception-keras-'));
  let reading: XceptionWeightsReading;
  try {
    const weightsPath = join(dir, 'model.weights.h5');
    await writeFile(weightsPath, weights);
    reading = await readKerasH5(weightsPath, options).catch((error: unknown) => {
      // Messages name the archive, not our temporary copy of its weights.
      if (error instanceof WeightsFileError) throw new WeightsFileError(error.code, error.message.split(weightsPath).join(`${path} (model.weights.h5)`), { path, ...(error.layer ? { layer: error.layer } : {}), cause: error });
      throw error;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  if (reading.hasTop !== savedConfig.includeTop || (savedConfig.includeTop && reading.classes !== savedConfig.classes)) {
    fail(`config.json describes ${savedConfig.includeTop ? `a ${savedConfig.classes}-class top` : 'no top'} but model.weights.h5 holds ${reading.hasTop ? `a ${reading.classes}-class one` : 'none'}; the archive is inconsistent, save the model again.`);
  }
  return { ...reading, format: 'keras', source: path, savedConfig, ...metadata };
}

/**
 * A `.keras` archive's config.json and metadata.json, checked as readKerasArchive checks them,
 * and its model.weights.h5 bytes, not read (a view of the file where stored). What a classifier
 * needs to know before it decides whether to decode the weights at all.
 */
export async function readKerasArchiveConfig(path: string): Promise<{
  savedConfig: SavedXceptionConfig;
  metadata: Pick<KerasArchiveReading, 'classNames' | 'kerasVersion'>;
  weights: Uint8Array;
}> {
  const entries = await unzipArchive(path);
  const fail = (message: string): never => {
    throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${path}: ${message}`, { path });
  };
  for (const name of ['config.json', 'model.weights.h5']) {
    if (!entries[name]) fail(`the archive has no ${name}, so it is not a Keras 3 model; save it with Keras 3's model.save('x.keras').`);
  }
  const json = (name: string): unknown => {
    try {
      return JSON.parse(new TextDecoder().decode(entries[name]));
    } catch (cause) {
      throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${path}: ${name} in the archive is not valid JSON; save the model again.`, { path, cause });
    }
  };
  const savedConfig = savedXceptionConfig(json('config.json'), fail);
  const metadata = (entries['metadata.json'] ? json('metadata.json') : {}) as { keras_version?: unknown; class_names?: unknown };
  // One name per class of the config (which readKerasArchive checks the weights against).
  const names = metadata.class_names;
  const classNames = Array.isArray(names) && names.every((n) => typeof n === 'string') && names.length === savedConfig.classes ? (names as string[]) : null;
  // Checked once here, where a file's names enter: tags, sidecars and result files trust them.
  for (const name of classNames ?? []) {
    const problem = classNameProblem(name);
    if (problem) fail(`metadata.json's class name ${JSON.stringify(name)} ${problem}; rename that class and save the model again.`);
  }
  return {
    savedConfig,
    metadata: { classNames, kerasVersion: typeof metadata.keras_version === 'string' ? metadata.keras_version : null },
    weights: entries['model.weights.h5']!,
  };
}

async function unzipArchive(path: string): Promise<Record<string, Uint8Array>> {
  const size = await stat(path).then((s) => (s.isFile() ? s.size : -1), () => null);
  if (size === null) throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `The weights file ${path} does not exist; check the path.`, { path });
  if (size < 0) throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `${path} is not a file; pass the path of a .keras archive.`, { path });
  const head = new Uint8Array(4);
  const handle = await open(path, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (!ZIP_LOCAL_HEADER.every((b, i) => head[i] === b)) {
    throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${path} is not a zip archive, so not a Keras 3 .keras file; save it with Keras 3's model.save('x.keras').`, { path });
  }
  const bytes: Uint8Array = await readFile(path); // a Buffer is a Uint8Array: no copy (new Uint8Array(buffer) copied all of it)
  // The zip directory is at the end: a copy cut short has none.
  if (endOfDirectory(bytes) < 0) {
    throw new WeightsFileError('ERR_WEIGHTS_TRUNCATED', `${path} is truncated: the zip archive ends before its directory; download or copy the file again.`, { path });
  }
  try {
    // model.weights.h5 is a view of `bytes` where stored (as Keras writes it), not a copy.
    return readZipEntries(bytes, (name) => name in ENTRY_CAPS, (name) => ENTRY_CAPS[name]!);
  } catch (cause) {
    if (cause instanceof ZipEntryTooLargeError) {
      throw new WeightsFileError('ERR_WEIGHTS_FORMAT', `${path} is refused: ${cause.message}, so it is not a model saved by Keras (a zip bomb or a damaged archive); save the model again with model.save('x.keras').`, { path, cause });
    }
    throw new WeightsFileError('ERR_WEIGHTS_TRUNCATED', `${path} could not be unzipped (${String((cause as Error).message ?? cause)}); download or copy the file again.`, { path, cause });
  }
}

interface LayerJson {
  class_name?: unknown;
  name?: unknown;
  config?: Record<string, unknown>;
}

/** The Xception options a Keras 3 functional config describes; anything else fails with ERR_WEIGHTS_FORMAT. */
export function savedXceptionConfig(config: unknown, fail: (message: string) => never): SavedXceptionConfig {
  const model = config as { class_name?: unknown; config?: { layers?: unknown } };
  const layers = Array.isArray(model?.config?.layers) ? (model.config.layers as LayerJson[]) : null;
  if (!layers || (model.class_name !== 'Functional' && model.class_name !== 'Model')) {
    fail(`config.json describes a ${String(model?.class_name ?? 'non-model')}, not a functional Keras model; only Keras' Xception (keras.applications.Xception) archives load here.`);
  }
  const nameOf = (layer: LayerJson): string => String(layer.name ?? layer.config?.name ?? '');
  const byName = new Map(layers!.map((l) => [nameOf(l), l]));
  for (const required of ['block1_conv1', 'block14_sepconv2_act']) {
    if (!byName.has(required)) fail(`config.json has no layer '${required}', so the model is not Keras' Xception (a model that wraps Xception as a sub-model is not read here).`);
  }
  const input = layers!.find((l) => l.class_name === 'InputLayer');
  const shape = (input?.config?.batch_shape ?? input?.config?.batch_input_shape) as unknown[] | undefined;
  if (!Array.isArray(shape) || shape.length !== 4 || shape[3] !== 3) {
    fail(`config.json's input layer has shape ${JSON.stringify(shape ?? null)}, not [batch, height, width, 3]; only RGB Xception models load here.`);
  }
  const side = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const predictions = byName.get('predictions');
  const last = layers![layers!.length - 1]!;
  const activation = predictions?.config?.activation;
  return {
    includeTop: predictions !== undefined,
    classes: predictions ? Number(predictions.config?.units) : null,
    inputShape: [side(shape![1]), side(shape![2]), 3],
    pooling: predictions ? null : last.class_name === 'GlobalAveragePooling2D' ? 'avg' : last.class_name === 'GlobalMaxPooling2D' ? 'max' : null,
    classifierActivation: !predictions ? null : activation === 'softmax' || activation === 'sigmoid' ? activation : activation === 'linear' || activation === null ? null
      : fail(`the classifier 'predictions' has activation ${JSON.stringify(activation)}; Xception's is softmax, sigmoid or linear.`),
  };
}
