import { MIN_SIZE } from '@xception/core';
import { ENGINE_CHOICES, type EngineChoice } from '@xception/engines';
import { openModel, PRECISION_CHOICES, RuntimeError, type OpenedModel, type OptionWords, type Precision, type RuntimeErrorCode } from '@xception/runtime';
import type { ResizeMode } from '@xception/vision-utils';
import type { Classifier, CommonClassifierOptions } from '../classifier.js';
import { ClassifierError, type ClassifierErrorCode } from '../classifier-error.js';
import { checkBatchSize, createClassifier } from '../create-classifier.js';
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
  /**
   * 'fp32' (default) or 'int8': onnxruntime's int8 kernels (CPU) on a QDQ model calibrated on
   * photos, cached (`xception quantize --calibrate DIR` makes one) or calibrated now on
   * `calibration`; refused (ERR_CLASSIFIER_INT8_AGREEMENT) when its top-1 class agrees with fp32
   * on under 98% of held-out calibration photos.
   */
  precision?: Precision;
  /** int8: paths of 64 to 256 typical photos to calibrate on (a quarter held out to check agreement). */
  calibration?: readonly string[];
  /** Where 'imagenet' and exported ONNX models are cached. Default $XCEPTION_HOME or the user cache folder. */
  cacheDir?: string;
  /** Lines about the engine choice ('engine: onnx not used (…); trying tfjs-node'). Default: none. */
  log?: (line: string) => void;
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
  const model = await openClassifierModel(options);
  return createClassifier<NodeImageInput>({
    runner: {
      size: model.imageSize,
      batchSize,
      decode: (input) => decodeNodeInput(input, model.imageSize, resize),
      run: (pixels, count) => model.run(pixels, count),
      describe: describeNodeInput,
    },
    classes: model.classes,
    classNames: model.classNames,
    engine: model.engine.detail,
    isArray: isInputArray,
    release: () => model.dispose(),
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
  if (o.resize !== undefined && o.resize !== 'squash' && o.resize !== 'center-crop') fail(`resize must be 'squash' or 'center-crop'; got ${JSON.stringify(o.resize)}`);
  if (o.threads !== undefined && (!Number.isInteger(o.threads) || o.threads < 1)) fail(`threads must be a positive integer; got ${JSON.stringify(o.threads)}`);
  if (o.precision !== undefined && !PRECISION_CHOICES.includes(o.precision)) fail(`precision must be 'fp32' or 'int8'; got ${JSON.stringify(o.precision)}`);
  if (o.calibration !== undefined && !(Array.isArray(o.calibration) && o.calibration.every((p) => typeof p === 'string'))) fail('calibration must be an array of photo paths');
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') fail('onProgress must be a function');
}

/** Opens the model through @xception/runtime, its errors in this library's option words. */
async function openClassifierModel(o: NodeClassifierOptions): Promise<OpenedModel> {
  try {
    return await openModel(o.weights === undefined ? 'imagenet' : o.weights, {
      engine: o.engine ?? 'auto',
      ...(o.imageSize === undefined ? {} : { imageSize: o.imageSize }),
      ...(o.threads ? { threads: o.threads } : {}),
      ...(o.precision ? { precision: o.precision } : {}),
      ...(o.calibration ? { calibration: o.calibration } : {}),
      ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}),
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
  } catch (error) {
    throw inOptionWords(error);
  }
}

/** loadClassifier's options: `weights: ./model.keras`, `imageSize 128`, `engine: 'onnx'`. */
const optionWords: OptionWords = {
  option: (option, value) => (option === 'imageSize' ? `imageSize ${value}` : option === 'weights' ? `weights: ${value}` : option === 'calibration' ? 'calibration: [...photo paths]' : `${option}: '${value}'`),
  value: (option, value) => (option === 'weights' && value === 'imagenet' ? "'imagenet'" : value),
};

const CODES: Record<RuntimeErrorCode, ClassifierErrorCode> = {
  ERR_RUNTIME_OPTIONS: 'ERR_CLASSIFIER_OPTIONS', ERR_RUNTIME_WEIGHTS: 'ERR_CLASSIFIER_WEIGHTS', ERR_ENGINE_UNAVAILABLE: 'ERR_CLASSIFIER_ENGINE',
  ERR_DEVICE_UNAVAILABLE: 'ERR_CLASSIFIER_ENGINE', ERR_INT8_AGREEMENT: 'ERR_CLASSIFIER_INT8_AGREEMENT',
};

/** The library's one hook for @xception/runtime's errors: a ClassifierError in its option words. */
function inOptionWords(error: unknown): unknown {
  if (!(error instanceof RuntimeError)) return error;
  const sentence = error.describe(optionWords);
  return new ClassifierError(CODES[error.code], error.code === 'ERR_RUNTIME_OPTIONS' ? `loadClassifier: ${sentence}` : sentence, { cause: error });
}
