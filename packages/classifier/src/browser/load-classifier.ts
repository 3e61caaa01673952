import * as tf from '@tensorflow/tfjs-core';
import { createXceptionFromValues, expectedWeights, MIN_SIZE, resolveXceptionConfig, type CreateXceptionOptions, type XceptionModel } from '@xception/core';
import { preprocessInput, type ResizeMode } from '@xception/vision-utils';
import type { Classifier, CommonClassifierOptions } from '../classifier.js';
import { ClassifierError, reasonOf } from '../classifier-error.js';
import { checkBatchSize, createClassifier } from '../create-classifier.js';
import { fetchModelArtifacts, type ModelArtifacts } from './cached-artifacts.js';
import { decodeBrowserInput, describeBrowserInput, isBrowserInputArray, type BrowserImageInput } from './read-browser-input.js';
import { setUpBackend, type BrowserBackend } from './set-up-backend.js';

export interface BrowserClassifierOptions extends CommonClassifierOptions {
  /**
   * The URL of a model.json (absolute, or relative to the page) of a folder written by
   * `xception weights convert … --to web` (or `--to tfjs`), or null for Keras' seeded random
   * initialisation (tests). ImageNet's weights are not downloadable from a page: host the folder.
   */
  weights: string | URL | null;
  /** tfjs backend: 'auto' (default) tries webgl (the GPU), then wasm. */
  backend?: BrowserBackend;
  /** Where tfjs-backend-wasm's .wasm files are served (a folder URL ending in '/'). */
  wasmPaths?: string;
  /**
   * Keep the model folder between visits so that the next one downloads nothing: in Cache Storage
   * (`CACHE_NAME`), or in IndexedDB (`CACHE_DB_NAME`) on plain-http pages, which have no Cache
   * Storage. A store that cannot be used costs a download, never an error. Default true.
   */
  cache?: boolean;
  /** The model's input side. Default: model.json's input layer, else 299. */
  imageSize?: number;
  /** How photos become squares: 'squash' (Keras' load_img; default) or 'center-crop'. */
  resize?: ResizeMode;
}

/**
 * The browser twin of the Node loadClassifier: sets tfjs' backend up (webgl, then wasm, and
 * awaits tf.ready()), loads a hosted model folder through Cache Storage or IndexedDB, and builds
 * @xception/core's model on it. Every tensor it makes is disposed by classify/embed or dispose().
 */
export async function loadClassifier(options: BrowserClassifierOptions): Promise<Classifier<BrowserImageInput>> {
  const fail = (message: string): never => { throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: ${message}.`); };
  if (options === null || typeof options !== 'object') fail("expected an options object such as { weights: '/models/xception/model.json' }");
  const w = options.weights;
  if (w === 'imagenet') fail("weights: 'imagenet' is downloaded and converted in Node only; run `xception weights convert imagenet --to web <folder>`, host the folder, and pass its model.json URL");
  if (w === undefined || (w !== null && !(w instanceof URL) && (typeof w !== 'string' || w.length === 0))) fail(`weights must be the URL of a model.json, or null; got ${JSON.stringify(w) ?? String(w)}`);
  if (options.backend !== undefined && !['auto', 'webgl', 'wasm'].includes(options.backend)) fail(`backend must be 'auto', 'webgl' or 'wasm'; got ${JSON.stringify(options.backend)}`);
  if (options.imageSize !== undefined && (!Number.isInteger(options.imageSize) || options.imageSize < MIN_SIZE)) fail(`imageSize must be an integer of at least ${MIN_SIZE}; got ${JSON.stringify(options.imageSize)}`);
  if (options.resize !== undefined && options.resize !== 'squash' && options.resize !== 'center-crop') fail(`resize must be 'squash' or 'center-crop'; got ${JSON.stringify(options.resize)}`);
  const batchSize = checkBatchSize(options.batchSize);
  const resize = options.resize ?? 'squash';

  const backend = await setUpBackend(options.backend ?? 'auto', options.wasmPaths);
  let model: XceptionModel;
  let imageSize: number;
  let classes = 1000;
  if (w === null) {
    imageSize = options.imageSize ?? 299;
    model = build({ includeTop: true, inputShape: [imageSize, imageSize, 3], weights: null }, null);
  } else {
    const url = new URL(String(w), globalThis.location?.href);
    const artifacts = await fetchModelArtifacts(url, options.cache ?? true, options.onProgress);
    const read = await readValues(artifacts, url.href);
    classes = read.classes;
    imageSize = options.imageSize ?? savedSize(artifacts) ?? 299;
    model = build({ includeTop: true, classes, inputShape: [imageSize, imageSize, 3], weights: 'weight-map' }, read.values);
  }

  return createClassifier<BrowserImageInput>({
    runner: {
      size: imageSize,
      batchSize,
      decode: (input) => decodeBrowserInput(input, imageSize, resize),
      async run(pixels, count) {
        const x = tf.tensor4d(preprocessInput(pixels), [count, imageSize, imageSize, 3], 'float32');
        const { output, features } = model.predictWithFeatures(x);
        try {
          const [o, f] = await Promise.all([output.data(), features.data()]);
          return { output: o as Float32Array, outputShape: output.shape, features: f as Float32Array };
        } finally {
          tf.dispose([x, output, features]);
        }
      },
      describe: describeBrowserInput,
    },
    classes,
    classNames: null,
    engine: `tfjs ${backend}`,
    isArray: isBrowserInputArray,
    release: async () => model.dispose(),
  });
}

function build(options: CreateXceptionOptions, values: Parameters<typeof createXceptionFromValues>[1]): XceptionModel {
  try {
    return createXceptionFromValues(resolveXceptionConfig(options), values);
  } catch (error) {
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${reasonOf(error)}.`, { cause: error });
  }
}

/** The input side model.json's InputLayer was saved with, when it has one. */
function savedSize(artifacts: ModelArtifacts): number | null {
  const topology = artifacts.json.modelTopology as { model_config?: { config?: { layers?: Array<{ class_name?: string; config?: { batch_input_shape?: unknown[] } }> } } } | undefined;
  const input = topology?.model_config?.config?.layers?.find((l) => l.class_name === 'InputLayer');
  const side = input?.config?.batch_input_shape?.[1];
  return typeof side === 'number' && side >= MIN_SIZE ? side : null;
}

/**
 * The manifest's weights under @xception/core's Keras names, decoded (and dequantised) by
 * tf.io.decodeWeights. Folders written by this project's converter use those names already;
 * tensorflowjs_converter's session suffix (`block1_conv1_1/kernel`) is taken off.
 */
async function readValues(artifacts: ModelArtifacts, where: string): Promise<{ values: Map<string, { shape: number[]; values: Float32Array }>; classes: number }> {
  const top = artifacts.weightSpecs.find((s) => /^predictions(_\d+)?\/kernel(:0)?$/.test(s.name));
  if (!top || top.shape.length !== 2) throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${where} has no classifier top (predictions/kernel); convert weights that include the top.`);
  const classes = top.shape[1]!;
  const expected = new Set(expectedWeights(resolveXceptionConfig({ includeTop: true, classes, weights: 'weight-map' })).map((s) => s.name));
  const decoded = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs as tf.io.WeightsManifestEntry[]);
  try {
    const values = new Map<string, { shape: number[]; values: Float32Array }>();
    for (const spec of artifacts.weightSpecs) {
      const plain = spec.name.replace(/:\d+$/, '');
      const name = expected.has(plain) ? plain : plain.replace(/_\d+\//, '/');
      if (!expected.has(name) || values.has(name)) {
        throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${where} holds weight '${spec.name}', which is not one of Xception's (or is there twice); write the folder with \`xception weights convert … --to web\`.`);
      }
      const tensor = decoded[spec.name]!;
      values.set(name, { shape: tensor.shape, values: (await tensor.data()) as Float32Array });
    }
    return { values, classes };
  } finally {
    tf.dispose(Object.values(decoded));
  }
}
