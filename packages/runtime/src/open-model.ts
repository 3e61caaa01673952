import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveXceptionConfig, type ClassifierActivation, type CreateXceptionOptions, type WeightValues } from '@xception/core';
import { decodedWeights, EngineError, selectEngine, type DeferredWeights, type EngineChoice, type EngineOptions, type EngineResult, type InferenceEngine } from '@xception/engines';
import type { Int8Agreement } from '@xception/onnx';
import { openClassifierWeights, readWeights, weightsModelId, type ProgressCallback, type WeightsRegistry } from '@xception/weights';
import { openInt8Model, type CalibrationSource, type Precision } from './int8-model.js';
import { checkImageSize, IMAGENET_SIZE } from './model-rules.js';
import { createOnnxFileEngine } from './onnx-file-engine.js';
import { reasonOf, RuntimeError } from './runtime-error.js';
import { weightsError } from './weights-error.js';

export interface OpenModelOptions {
  /** Where inference runs (@xception/engines): 'auto' (default) tries onnx, tfjs-node, wasm, then cpu. */
  engine?: EngineChoice;
  /** The input side, or [height, width]. Default: what the weights were saved with, else 299. */
  imageSize?: number | readonly [number, number];
  /** Keep the classifier top (default true); without it, `pooling` applies as in Keras. */
  includeTop?: boolean;
  pooling?: 'avg' | 'max' | null;
  /** onnxruntime's intra-op threads, or the wasm pool's workers (default: the number of CPUs). */
  threads?: number;
  /** onnxruntime's execution provider: 'auto' (CUDA when it loads), 'cpu', or 'cuda'. */
  device?: EngineOptions['device'];
  /** 'fp32' (default), or 'int8': onnxruntime's int8 kernels (CPU) on a QDQ model calibrated on photos and cached; refused below 0.98 top-1 agreement with fp32 (ERR_INT8_AGREEMENT). */
  precision?: Precision;
  /** int8: the photos to calibrate on (64 to 256 typical ones), used when no int8 model of these weights is cached or, as paths, to calibrate on exactly these. */
  calibration?: CalibrationSource;
  /** Where 'imagenet' and exported ONNX models are cached (`<cacheDir>/onnx`). Default $XCEPTION_HOME or the user cache folder. */
  cacheDir?: string;
  /** Where 'imagenet' is downloaded from, and the environment (proxies) for it: tests use a server on 127.0.0.1. */
  registry?: WeightsRegistry;
  env?: NodeJS.ProcessEnv;
  /** With random weights (spec null or 'none'): the seed of Keras' initialisers. */
  seed?: number;
  /** Weights already in memory (training's base): used instead of reading `spec`, which then only names them. */
  values?: WeightValues;
  /** Download and read progress of the weights. */
  onProgress?: ProgressCallback;
  /** Lines about the engine choice ('engine: onnx not used (…); trying tfjs-node'). Default: none. */
  log?: (line: string) => void;
  /**
   * Called with the decoded values before the engine starts, for a caller that hashes them (the
   * CLI's model record) and may refuse to go on; the values are not kept after the engine has them.
   */
  onWeights?(values: WeightValues | null, model: { imageSize: number; classes: number }): void | Promise<void>;
}

/** Xception opened for inference: the engine, the classes, the input size, and the id results record. */
export interface OpenedModel {
  readonly engine: InferenceEngine;
  readonly classes: number;
  /** A trained .keras archive's class names; null for ImageNet's 1000 (named by @xception/vision-utils). */
  readonly classNames: readonly string[] | null;
  /** The input side (height and width; [height, width] when opened with two). */
  readonly imageSize: number;
  readonly inputShape: readonly [number, number];
  /** 'imagenet', 'random', or `file:<name>#<sha256, 12 hex>` (@xception/weights' weightsModelId). */
  readonly modelId: string;
  /** With precision 'int8': where its model came from and how well it agreed with fp32; null in fp32. */
  readonly int8: Int8Summary | null;
  /** Runs `count` images packed NHWC (uint8 RGB, or float32 in [-1, 1]) at the model's input shape. */
  run(pixels: Uint8Array | Float32Array, count: number): Promise<EngineResult>;
  dispose(): Promise<void>;
}

/** The int8 model an OpenedModel runs: calibrated by this open (on `agreement.calibrated` photos) or taken from the cache. */
export interface Int8Summary {
  /** For people: 'int8 cached <file>', 'int8, calibrated on N photos (minmax), cached at <file>'. */
  source: string;
  /** True when this open calibrated it; false when it was cached. */
  calibrated: boolean;
  agreement: Int8Agreement;
}

/**
 * Opens Xception for every front door: reads the weights ('imagenet', downloaded once; a .keras,
 * .h5, model.json or .onnx file or URL; null or 'none' for Keras' seeded random initialisation),
 * applies Keras' rules, and starts the engine `engine` names. Failures are RuntimeErrors.
 */
export async function openModel(spec: string | URL | null, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const source = spec === null || spec === 'none' ? null : spec instanceof URL ? spec.href : spec;
  const includeTop = options.includeTop ?? true;
  checkImageSize(source, sideOf(options.imageSize), includeTop);
  if (source !== null && /\.onnx$/i.test(source.replace(/[?#].*$/, ''))) return openOnnxFile(source, options);
  const read = await readModelWeights(source, includeTop, options);
  const [height, width] = shapeOf(options.imageSize, read.inputSize);
  const model: CreateXceptionOptions = {
    includeTop,
    ...(includeTop ? { classes: read.classes, classifierActivation: read.classifierActivation } : { pooling: options.pooling ?? null }),
    inputShape: [height, width, 3],
    // Keras' rules for pretrained weights apply to 'imagenet' only; a file is a whole model.
    weights: source === 'imagenet' ? 'imagenet' : null,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
  };
  try {
    resolveXceptionConfig(model);
  } catch (error) {
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'imageSize', () => `${reasonOf(error)}.`, { cause: error });
  }
  // Weights still in their file stay so (their decode() gives the same map again): the file's id,
  // not the values, keys the ONNX cache, so that a caller that hashes the values (the CLI's classify)
  // finds the exports and int8 models of one that does not (xception quantize).
  const weights = read.values;
  if (options.onWeights) {
    const decoded = await decodedWeights(weights).catch((error: unknown) => { throw weightsError(source ?? 'none', error); });
    await options.onWeights(decoded, { imageSize: height, classes: read.classes });
  }
  const int8 = options.precision === 'int8' ? await openInt8(model, weights, [height, width], options) : null;
  const engine = await startEngine(int8 ? 'onnx' : options.engine ?? 'auto', source ?? 'none', {
    model,
    weights,
    ...(int8 ? { onnxModel: int8.model, device: 'cpu' as const } : {}),
    ...(options.device && !int8 ? { device: options.device } : {}),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(options.cacheDir ? { onnxCacheDir: join(options.cacheDir, 'onnx') } : {}),
  }, options.log ?? (() => undefined));
  const modelId = await modelIdOf(source, options);
  return opened(engine, { classes: includeTop ? read.classes : 0, classNames: read.classNames, height, width, modelId, int8: int8?.summary ?? null });
}

/** precision 'int8': onnxruntime on the CPU only, and a model from Keras weights (it is calibrated from their fp32 export). */
async function openInt8(model: CreateXceptionOptions, weights: WeightValues | DeferredWeights | null, shape: [number, number], o: OpenModelOptions) {
  const engine = o.engine ?? 'auto';
  if (engine !== 'auto' && engine !== 'onnx') {
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'precision', (w) => `${w.option('precision', 'int8')} runs on ${w.option('engine', 'onnx')} only; leave ${w.option('engine', engine)} out, or use ${w.option('precision', 'fp32')}.`);
  }
  if (o.device === 'cuda') {
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'precision', (w) => `${w.option('precision', 'int8')} runs on the CPU's int8 kernels, not CUDA; leave ${w.option('device', 'cuda')} out, or use ${w.option('precision', 'fp32')}.`);
  }
  const file = await openInt8Model(model, weights, shape, {
    ...(o.calibration ? { calibration: o.calibration } : {}), ...(o.cacheDir ? { cacheDir: join(o.cacheDir, 'onnx') } : {}), ...(o.threads ? { threads: o.threads } : {}),
  });
  const a = file.record.agreement;
  o.log?.(`int8: ${file.source}; agreement with fp32 on ${a.heldOut} held-out photos: top-1 ${a.top1 === null ? 'n/a' : a.top1.toFixed(3)}, embedding cosine ${a.embeddingCosine.toFixed(4)}`);
  const summary: Int8Summary = { source: file.source, calibrated: file.calibrated, agreement: a };
  return { model: { path: file.path, source: file.source, cached: file.cached }, summary };
}

/**
 * The id results and sidecars record for these weights (@xception/weights' weightsModelId):
 * 'imagenet', 'random' (null or 'none'), or `file:<name>#<sha256, 12 hex>`, so that a retrained
 * model.keras never mixes its predictions with the old one's.
 */
export async function modelIdOf(spec: string | null, options: Pick<OpenModelOptions, 'cacheDir' | 'env'> = {}): Promise<string> {
  if (spec === null || spec === 'none') return 'random';
  try {
    return await weightsModelId(spec, pick(options));
  } catch (error) {
    throw weightsError(spec, error);
  }
}

interface ReadWeights {
  values: WeightValues | DeferredWeights | null;
  classes: number;
  classNames: readonly string[] | null;
  inputSize: number | null;
  classifierActivation: ClassifierActivation;
}

/** The weights with their top (undecoded when the engine may not need them: the onnx cache's hit), or without. */
async function readModelWeights(source: string | null, includeTop: boolean, o: OpenModelOptions): Promise<ReadWeights> {
  const none: ReadWeights = { values: o.values ?? null, classes: 1000, classNames: null, inputSize: null, classifierActivation: 'softmax' };
  if (source === null || o.values) return none;
  const reading = { ...pick(o), ...(o.registry ? { registry: o.registry } : {}), ...(o.onProgress ? { onProgress: o.onProgress } : {}) };
  try {
    if (!includeTop) return { ...none, values: (await readWeights(source, { ...reading, includeTop: false })).values };
    const r = await openClassifierWeights(source, reading);
    return { values: r.weights, classes: r.classes, classNames: r.classNames, inputSize: r.inputSize, classifierActivation: r.classifierActivation };
  } catch (error) {
    throw weightsError(source, error);
  }
}

/** @xception/engines' selectEngine, its EngineError (and a deferred file found damaged) as RuntimeErrors. */
async function startEngine(choice: EngineChoice, source: string, given: EngineOptions, log: (line: string) => void): Promise<InferenceEngine> {
  try {
    return await selectEngine(choice, given, log);
  } catch (error) {
    if (error instanceof EngineError) {
      throw new RuntimeError('ERR_ENGINE_UNAVAILABLE', 'engine', (w) => error.describe((e) => w.option('engine', e)), { cause: error });
    }
    throw weightsError(source, error);
  }
}

/** A ready .onnx file (`xception weights convert --to onnx`): onnxruntime only, at the size fixed in it. */
async function openOnnxFile(source: string, o: OpenModelOptions): Promise<OpenedModel> {
  if (o.engine !== undefined && o.engine !== 'auto' && o.engine !== 'onnx') {
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'engine', (w) =>
      `${w.option('weights', source)} is an .onnx file, which runs on ${w.option('engine', 'onnx')} only; leave ${w.option('engine', o.engine!)} out, or pass Keras weights.`);
  }
  if (o.precision === 'int8') {
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'precision', (w) =>
      `${w.option('weights', source)} is a ready .onnx file, which runs as it is; ${w.option('precision', 'int8')} is calibrated from Keras weights (.keras, .h5 or model.json): pass those, or leave it out.`);
  }
  const bytes = await readOnnxBytes(source, o.onProgress);
  const engine = await createOnnxFileEngine(bytes, source, o.threads);
  const asked = sideOf(o.imageSize);
  if (engine.imageSize !== null && asked !== undefined && asked !== engine.imageSize) {
    await engine.dispose();
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'imageSize', (w) =>
      `${w.option('imageSize', String(asked))} does not fit ${w.value('weights', source)}, whose input is ${engine.imageSize}x${engine.imageSize}; leave it out.`);
  }
  const side = engine.imageSize ?? asked ?? IMAGENET_SIZE;
  const modelId = `file:${nameOf(source)}#${createHash('sha256').update(bytes).digest('hex').slice(0, 12)}`;
  return opened(engine, { classes: engine.classes, classNames: null, height: side, width: side, modelId, int8: null });
}

async function readOnnxBytes(source: string, onProgress: ProgressCallback | undefined): Promise<Uint8Array> {
  try {
    if (!/^https?:\/\//i.test(source)) return await readFile(source.startsWith('file:') ? fileURLToPath(source) : source);
    onProgress?.({ phase: 'download', bytes: 0, totalBytes: null, target: source });
    const response = await fetch(source);
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ phase: 'done', bytes: bytes.length, totalBytes: bytes.length, target: source });
    return bytes;
  } catch (error) {
    throw new RuntimeError('ERR_RUNTIME_WEIGHTS', 'weights', (w) => `${w.option('weights', source)} cannot be read (${reasonOf(error)}); check the path or address.`, { cause: error });
  }
}

function opened(engine: InferenceEngine, m: { classes: number; classNames: readonly string[] | null; height: number; width: number; modelId: string; int8: Int8Summary | null }): OpenedModel {
  return {
    int8: m.int8,
    engine,
    classes: m.classes,
    classNames: m.classNames,
    imageSize: m.height,
    inputShape: [m.height, m.width],
    modelId: m.modelId,
    run: (pixels, count) => engine.run({ pixels, count, height: m.height, width: m.width }),
    dispose: () => engine.dispose(),
  };
}

const sideOf = (size: OpenModelOptions['imageSize']): number | undefined => (typeof size === 'number' ? size : size?.[0]);
const shapeOf = (size: OpenModelOptions['imageSize'], saved: number | null): [number, number] =>
  typeof size === 'number' ? [size, size] : size ? [size[0], size[1]] : [saved ?? IMAGENET_SIZE, saved ?? IMAGENET_SIZE];
const nameOf = (source: string): string => source.replace(/[?#].*$/, '').replace(/[\\/]+$/, '').split(/[\\/]/).pop() ?? source;
const pick = (o: OpenModelOptions): { cacheDir?: string; env?: NodeJS.ProcessEnv } => ({ ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(o.env ? { env: o.env } : {}) });
