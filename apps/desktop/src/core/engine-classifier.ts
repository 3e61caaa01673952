import type { EngineChoice, Precision, Prediction, WeightsChoice } from '../shared/api.js';
import type { Classification, Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError, messageOf, type DesktopErrorCode } from './errors.js';
import type { DecodedInput, FailedInput, Int8Summary, OpenedModel, OptionWords, RuntimeError } from '@xception/runtime';
import { CALIBRATE_ON_FIRST } from './precision-classifier.js';
import type { WeightsRegistry } from '@xception/weights';

/** The engines that run in the utility process ('webgl' runs in the renderer). */
export type UtilityEngineChoice = Exclude<EngineChoice, 'webgl'>;

export interface EngineClassifierOptions {
  engine: UtilityEngineChoice;
  /** ImageNet (downloaded and cached by @xception/weights), a file, or null: seeded random weights (tests, benchmarks). */
  weights: WeightsChoice | null;
  /** With random weights only (default 299); ImageNet's run at 299, a .keras file at the size it was saved with. */
  imageSize?: number;
  /**
   * Where the ImageNet weights come from and are cached (@xception/weights' defaults when
   * absent: Keras' addresses, the user's cache folder, process.env for proxies). Tests point
   * `registry` at a server on 127.0.0.1. The onnx engine caches its exported model under
   * `<cacheDir>/onnx`.
   */
  download?: { registry?: WeightsRegistry; cacheDir?: string; env?: NodeJS.ProcessEnv };
  /** With weights null: the random model's seed. */
  random?: { seed?: number };
  /** 'fp32' (default) or 'int8' (onnxruntime's int8 kernels on a model calibrated on `calibrationPhotos`, or a cached one). */
  precision?: Precision;
  /** int8: the photos to calibrate on when no calibrated model of the weights is cached (the library's first 64). */
  calibrationPhotos?: readonly string[];
  /** Threads for the engine (default: the number of CPUs). */
  threads?: number;
  /** Why 'auto' passed an engine over, one line each. */
  log?: (line: string) => void;
  /**
   * With a side (the grid's, thumbnails.ts' THUMBNAIL_SIZE), the results of the photos named in
   * classifyBatch's `thumbnails` carry the photo's thumbnail, made from the decode the model's
   * input came from: one decode per photo, and no thumbnail work for the photos nobody asked for.
   */
  thumbnailSize?: number;
}

type Runtime = typeof import('@xception/runtime');

/** The model once loaded: what a batch needs. */
interface LoadedModel {
  runtime: Runtime;
  model: OpenedModel;
  /** ImageNet's names for ImageNet's head, the model's class names for a trained one (which then joins no ImageNet group). */
  topK(output: Float32Array, count: number, k: number): Prediction[][];
}

/**
 * Xception on @xception/engines as a Classifier: 'auto' takes onnx (onnxruntime-node in a
 * worker thread) when it loads, then tfjs-node, then the wasm pool. Photos are decoded and run
 * by @xception/runtime's pipeline steps (decodeInput: sharp, read-only; runBatch), batch by
 * batch as the tagging queue asks; the photos of the next batch are decoded while this one runs.
 * Everything heavy is imported lazily, so that the main process and the tests that do not
 * classify never load an engine: this module runs inside the utility process (inference-host.ts).
 */
export function createEngineClassifier(options: EngineClassifierOptions): Classifier & { backend(): string | null; int8Note(): string | null } {
  let loaded: LoadedModel | null = null;
  let loading: Promise<void> | null = null;
  /** Decodes started ahead of their batch (`next`), by path; at most one batch's worth. decodeInput never rejects. */
  let ahead = new Map<string, Promise<DecodedInput | FailedInput>>();
  /** The file's name until load() has hashed it (see modelIdOf). */
  const namedBeforeLoad = options.weights === null ? 'random' : options.weights.kind === 'imagenet' ? 'imagenet' : `file:${options.weights.path.split(/[\\/]/).pop()}`;

  const classifyBatch = async (photos: readonly string[], topK: number, next: readonly string[] = [], thumbnails: readonly string[] = []): Promise<Array<Classification | Error>> => {
    const m = loaded;
    if (!m) throw new DesktopError('ERR_CLASSIFIER_FAILED', 'The model is not loaded; call load() first.');
    const wanted = new Set(options.thumbnailSize ? thumbnails : []);
    const thumbnailOf = (photo: string) => (wanted.has(photo) ? { size: options.thumbnailSize! } : undefined);
    // A photo decoded ahead before the grid asked for it has no thumbnail: the grid's thumbnail service makes it.
    const decode = (photo: string) => ahead.get(photo) ?? m.runtime.decodeInput({ path: photo, ok: true }, m.model.inputShape, undefined, thumbnailOf(photo));
    const mine = photos.map(decode);
    // The next batch decodes (sharp's own threads) while this one runs in the engine's thread.
    ahead = new Map(next.map((photo) => [photo, decode(photo)]));
    const decoded = await Promise.all(mine);
    const results: Array<Classification | Error> = decoded.map((d) => ('error' in d ? Object.assign(new Error(d.error.message), { code: d.error.code }) : new Error('not run')));
    const good = decoded.flatMap((d, i) => ('error' in d ? [] : [{ i, d }]));
    if (good.length === 0) return results;
    const { output, features } = await m.runtime.runBatch(m.model.engine, good.map((g) => g.d), m.model.inputShape);
    const top = m.topK(output, good.length, topK);
    good.forEach((g, j) => {
      results[g.i] = { predictions: top[j]!, features: features.slice(j * 2048, (j + 1) * 2048), ...(g.d.thumbnail ? { thumbnail: g.d.thumbnail } : {}) };
    });
    return results;
  };

  return {
    get modelId() {
      return loaded?.model.modelId ?? namedBeforeLoad;
    },
    backend: () => loaded?.model.engine.detail ?? null,
    int8Note: () => (loaded?.model.int8 ? int8NoteOf(loaded.model.int8) : null),
    async load(onProgress) {
      loading ??= openClassifierModel(options, onProgress).then((m) => void (loaded = m), (error: unknown) => {
        loading = null;
        throw error;
      });
      await loading;
    },
    classifyBatch,
    async classify(photo, topK): Promise<Classification> {
      const [result] = await classifyBatch([photo], topK);
      if (result instanceof Error) throw result;
      return result!;
    },
    async dispose() {
      const old = loaded;
      loaded = null;
      loading = null;
      ahead = new Map();
      await old?.model.dispose();
    },
  };
}

/** openModel with the settings' weights and engine; its errors in the settings' words. */
async function openClassifierModel(options: EngineClassifierOptions, onProgress?: (p: ClassifierLoadProgress) => void): Promise<LoadedModel> {
  const [runtime, vision, library] = await Promise.all([import('@xception/runtime'), import('@xception/vision-utils'), import('@xception/photo-library/rules')]);
  const source = options.weights === null ? null : options.weights.kind === 'imagenet' ? 'imagenet' : options.weights.path;
  const { registry, cacheDir, env } = options.download ?? {};
  const calibrationPhotos = options.calibrationPhotos;
  const model = await runtime.openModel(source, {
    engine: options.engine,
    ...(options.precision === 'int8' ? { precision: 'int8' as const } : {}),
    // Decoded only when no calibrated model of these weights is cached.
    ...(options.precision === 'int8' && calibrationPhotos ? { calibration: (shape: readonly [number, number]) => runtime.decodeCalibrationPhotos(calibrationPhotos, shape) } : {}),
    // With random weights only: ImageNet's run at 299, a .keras file at the size it was saved with.
    ...(source === null && options.imageSize ? { imageSize: options.imageSize } : {}),
    ...(options.random?.seed === undefined ? {} : { seed: options.random.seed }),
    ...(options.threads ? { threads: options.threads } : {}),
    ...(registry ? { registry } : {}),
    ...(cacheDir ? { cacheDir } : {}),
    ...(env ? { env } : {}),
    // Its progress events are { phase, bytes, totalBytes }; the toolbar shows the download.
    onProgress: (event) => {
      if (event.phase === 'download') onProgress?.({ loaded: event.bytes, total: event.totalBytes ?? null });
    },
    // The runtime's int8 line names the cache file; the app says it once, in its own words (int8Note).
    ...(options.log ? { log: (line: string) => { if (!line.startsWith('int8: ')) options.log!(line); } } : {}),
  }).catch((error: unknown) => { throw inSettingWords(error, options.precision ?? 'fp32'); });
  const topK = (output: Float32Array, count: number, k: number): Prediction[][] =>
    vision.rankClasses({ data: output, rows: count, classes: model.classes, classNames: model.classNames }, k).map((row) => library.predictionsForTags(row));
  return { runtime, model, topK };
}

/** The toolbar's and the log's one line on the int8 model in use: calibrated now, or cached. */
export function int8NoteOf(int8: Int8Summary): string {
  const a = int8.agreement;
  const agreement = `top-1 agreement with fp32 ${a.top1 === null ? 'n/a' : a.top1.toFixed(3)} on ${a.heldOut} held-out photos`;
  return int8.calibrated
    ? `int8: calibrated on the library's first ${a.calibrated + a.heldOut} photos (${agreement}), cached for later runs`
    : `int8: a cached calibrated model (${agreement})`;
}

/** The settings' words for @xception/runtime's options: "the 'onnx' engine", "the weights file x.keras", "precision int8". */
const settingWords: OptionWords = {
  option: (option, value) => {
    if (option === 'weights') return `the weights ${value}`;
    if (option === 'imageSize') return `the image size ${value}`;
    if (option === 'precision') return `precision ${value}`;
    if (option === 'calibration') return `the library's first ${CALIBRATE_ON_FIRST} photos`;
    return `the '${value}' ${option}`;
  },
  value: (_option, value) => value,
};

/**
 * The app's one hook for @xception/runtime's errors: an engine that cannot load is a setting to
 * change; int8's refusals are the precision setting's (the app then tags in fp32); the weights'
 * own errors go on with their codes (describeLoadError words them).
 */
function inSettingWords(error: unknown, precision: Precision): unknown {
  if (!(error instanceof Error) || error.name !== 'RuntimeError') return error;
  const e = error as RuntimeError;
  if (e.code === 'ERR_RUNTIME_WEIGHTS') return e.cause ?? e;
  const sentence = e.describe(settingWords);
  const code = desktopCodeOf(e, precision);
  const advice = code === 'ERR_ENGINE_UNAVAILABLE' ? ' Choose another engine in settings.' : '';
  return new DesktopError(code, `${sentence[0]!.toUpperCase()}${sentence.slice(1)}${advice}`, { cause: error });
}

function desktopCodeOf(e: RuntimeError, precision: Precision): DesktopErrorCode {
  if (e.code === 'ERR_INT8_AGREEMENT') return 'ERR_PRECISION_REFUSED';
  // int8 runs on onnx only: an onnxruntime that cannot load is int8's failure, and fp32 may run elsewhere.
  if (precision === 'int8' && (e.option === 'precision' || e.option === 'calibration' || e.code === 'ERR_ENGINE_UNAVAILABLE')) return 'ERR_PRECISION_UNAVAILABLE';
  return e.code === 'ERR_ENGINE_UNAVAILABLE' ? 'ERR_ENGINE_UNAVAILABLE' : 'ERR_CLASSIFIER_FAILED';
}

/**
 * The id sidecars and the feature cache record for these weights (@xception/weights'
 * weightsModelId, as `xception tag` records it): 'imagenet', 'random', or the file's name and
 * hash, so that a retrained model.keras never mixes its predictions with the old one's.
 */
export async function modelIdOf(weights: WeightsChoice | null): Promise<string> {
  if (weights === null) return 'random';
  if (weights.kind === 'imagenet') return 'imagenet';
  const { weightsModelId } = await import('@xception/weights');
  return weightsModelId(weights.path);
}

/** One sentence for the user when the model cannot load (the weights package's typed codes). */
export function describeLoadError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ERR_DOWNLOAD_OFFLINE') return 'You are offline and the ImageNet weights are not downloaded yet: connect once to download them (about 88 MB), or choose a weights file in settings.';
  if (code === 'ERR_DOWNLOAD_HTTP' || code === 'ERR_DOWNLOAD_TRUNCATED' || code === 'ERR_DOWNLOAD_HASH') return `The ImageNet weights download failed (${messageOf(error)}); try again later or choose a weights file in settings.`;
  return messageOf(error);
}
