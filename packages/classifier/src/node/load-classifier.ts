import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MIN_SIZE, resolveXceptionConfig, type ClassifierActivation, type CreateXceptionOptions, type WeightValues } from '@xception/core';
import { ENGINE_CHOICES, EngineError, selectEngine, type DeferredWeights, type EngineChoice, type InferenceEngine } from '@xception/engines';
import type { ResizeMode } from '@xception/vision-utils';
import { openClassifierWeights, WeightsDownloadError, WeightsFileError } from '@xception/weights';
import type { Classifier, CommonClassifierOptions } from '../classifier.js';
import { ClassifierError, reasonOf } from '../classifier-error.js';
import { checkBatchSize, createClassifier } from '../create-classifier.js';
import { createOnnxFileEngine } from './onnx-file-engine.js';
import { decodeNodeInput, describeNodeInput, isInputArray, type NodeImageInput } from './read-node-input.js';

export interface NodeClassifierOptions extends CommonClassifierOptions {
  /**
   * 'imagenet' (Keras' ImageNet weights, downloaded once into the cache; the default), null
   * (Keras' seeded random initialisation: for tests), or the path or URL of a Keras .keras,
   * .h5 or .weights.h5 file, a tfjs model.json (or its folder), or an .onnx file written by
   * `xception weights convert --to onnx`.
   */
  weights?: 'imagenet' | null | string | URL;
  /** Where inference runs (@xception/engines): 'auto' (default) tries onnx, tfjs-node, wasm, then cpu. */
  engine?: EngineChoice;
  /** The model's input side. Default: what the weights were saved with (a .keras or .onnx file), else 299. */
  imageSize?: number;
  /** How photos become squares: 'squash' (Keras' load_img; default) or 'center-crop'. */
  resize?: ResizeMode;
  /** onnxruntime's intra-op threads, or the wasm pool's workers (default: the number of CPUs). */
  threads?: number;
  /** Where 'imagenet' and exported ONNX models are cached. Default $XCEPTION_HOME or the user cache folder. */
  cacheDir?: string;
  /** Lines about the engine choice ('engine: onnx not used (…); trying tfjs-node'). Default: none. */
  log?: (line: string) => void;
}

interface Model {
  engine: InferenceEngine;
  imageSize: number;
  classes: number;
  classNames: readonly string[] | null;
}

/**
 * Keras' `Xception(weights='imagenet')` plus `decode_predictions`, in one call: weights are
 * fetched or read, the fastest engine that loads here is started (onnxruntime-node first), and
 * classify() / embed() take photos by path, URL or bytes. dispose() stops the engine.
 */
export async function loadClassifier(options: NodeClassifierOptions = {}): Promise<Classifier<NodeImageInput>> {
  checkOptions(options);
  const batchSize = checkBatchSize(options.batchSize);
  const resize = options.resize ?? 'squash';
  const model = await openModel(options);
  return createClassifier<NodeImageInput>({
    runner: {
      size: model.imageSize,
      batchSize,
      decode: (input) => decodeNodeInput(input, model.imageSize, resize),
      run: (pixels, count) => model.engine.run({ pixels, count, height: model.imageSize, width: model.imageSize }),
      describe: describeNodeInput,
    },
    classes: model.classes,
    classNames: model.classNames,
    engine: model.engine.detail,
    isArray: isInputArray,
    release: () => model.engine.dispose(),
  });
}

function checkOptions(o: NodeClassifierOptions): void {
  const fail = (message: string): never => { throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: ${message}.`); };
  if (o === null || typeof o !== 'object') fail(`expected an options object such as { weights: 'imagenet' }; got ${String(o)}`);
  const w = o.weights;
  if (w !== undefined && w !== null && !(w instanceof URL) && (typeof w !== 'string' || w.length === 0)) {
    fail(`weights must be 'imagenet', null, or the path or URL of a .keras, .h5, model.json or .onnx file; got ${JSON.stringify(w) ?? String(w)}`);
  }
  if (o.engine !== undefined && !ENGINE_CHOICES.includes(o.engine)) fail(`engine must be one of ${ENGINE_CHOICES.map((e) => `'${e}'`).join(', ')}; got ${JSON.stringify(o.engine)}`);
  if (o.imageSize !== undefined && (!Number.isInteger(o.imageSize) || o.imageSize < MIN_SIZE)) fail(`imageSize must be an integer of at least ${MIN_SIZE}; got ${JSON.stringify(o.imageSize)}`);
  if ((o.weights === undefined || o.weights === 'imagenet') && o.imageSize !== undefined && o.imageSize !== 299) fail(`imageSize ${o.imageSize} needs other weights than 'imagenet', whose classifier expects 299; leave imageSize out`);
  if (o.resize !== undefined && o.resize !== 'squash' && o.resize !== 'center-crop') fail(`resize must be 'squash' or 'center-crop'; got ${JSON.stringify(o.resize)}`);
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) fail(`threads must be a positive integer; got ${JSON.stringify(o.threads)}`);
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') fail('onProgress must be a function');
}

async function openModel(o: NodeClassifierOptions): Promise<Model> {
  const spec = o.weights === undefined ? 'imagenet' : o.weights instanceof URL ? o.weights.href : o.weights;
  if (spec !== null && /\.onnx$/i.test(spec.replace(/[?#].*$/, ''))) return openOnnxFile(spec, o);
  // A .keras or .h5 stays undecoded until an engine needs its values (the onnx engine's cache hit does not).
  let values: WeightValues | DeferredWeights | null = null;
  let classes = 1000;
  let classNames: readonly string[] | null = null;
  let imageSize = o.imageSize ?? 299;
  let classifierActivation: ClassifierActivation = 'softmax';
  if (spec !== null) {
    try {
      const reading = await openClassifierWeights(spec, { ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
      values = reading.weights;
      classes = reading.classes;
      classNames = reading.classNames;
      classifierActivation = reading.classifierActivation;
      imageSize = o.imageSize ?? reading.inputSize ?? 299;
    } catch (error) {
      if (error instanceof WeightsFileError || error instanceof WeightsDownloadError) {
        throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${reasonOf(error)}.`, { cause: error });
      }
      throw error;
    }
  }
  const model: CreateXceptionOptions = {
    includeTop: true,
    classes,
    classifierActivation,
    inputShape: [imageSize, imageSize, 3],
    // Keras' rules for pretrained weights apply to 'imagenet' only; a file is a whole model.
    weights: spec === 'imagenet' ? 'imagenet' : null,
  };
  try {
    resolveXceptionConfig(model);
  } catch (error) {
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: ${reasonOf(error)}.`, { cause: error });
  }
  try {
    const engine = await selectEngine(o.engine ?? 'auto', {
      model,
      weights: values,
      ...(o.threads ? { threads: o.threads } : {}),
      ...(o.cacheDir ? { onnxCacheDir: join(o.cacheDir, 'onnx') } : {}),
    }, o.log ?? (() => undefined));
    return { engine, imageSize, classes, classNames };
  } catch (error) {
    if (error instanceof EngineError) throw new ClassifierError('ERR_CLASSIFIER_ENGINE', error.message, { cause: error });
    // Decoding a deferred file, the engine found it damaged: the weights' error, as when it is read at once.
    if (error instanceof WeightsFileError) throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${reasonOf(error)}.`, { cause: error });
    throw error;
  }
}

async function openOnnxFile(spec: string, o: NodeClassifierOptions): Promise<Model> {
  if (o.engine !== undefined && o.engine !== 'auto' && o.engine !== 'onnx') {
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: weights ${spec} is an .onnx file, which runs on engine: 'onnx' only; leave engine out, or pass Keras weights for engine: '${o.engine}'.`);
  }
  let bytes: Uint8Array;
  try {
    if (/^https?:\/\//i.test(spec)) {
      o.onProgress?.({ phase: 'download', bytes: 0, totalBytes: null, target: spec });
      const response = await fetch(spec);
      if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
      bytes = new Uint8Array(await response.arrayBuffer());
      o.onProgress?.({ phase: 'done', bytes: bytes.length, totalBytes: bytes.length, target: spec });
    } else {
      bytes = await readFile(spec.startsWith('file:') ? fileURLToPath(spec) : spec);
    }
  } catch (error) {
    throw new ClassifierError('ERR_CLASSIFIER_WEIGHTS', `weights: ${spec} cannot be read (${reasonOf(error)}); check the path or address.`, { cause: error });
  }
  const engine = await createOnnxFileEngine(bytes, spec, o.threads);
  if (engine.imageSize !== null && o.imageSize !== undefined && o.imageSize !== engine.imageSize) {
    await engine.dispose();
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: imageSize ${o.imageSize} does not fit ${spec}, whose input is ${engine.imageSize}x${engine.imageSize}; leave imageSize out.`);
  }
  return { engine, imageSize: engine.imageSize ?? o.imageSize ?? 299, classes: engine.classes, classNames: null };
}
