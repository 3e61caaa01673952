import type { EngineChoice, Prediction, WeightsChoice } from '../shared/api.js';
import type { Classification, Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError, messageOf } from './errors.js';
import type { InferenceEngine } from '@xception/engines';
import type { OptionWords, RuntimeError } from '@xception/runtime';
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
  /** Threads for the engine (default: the number of CPUs). */
  threads?: number;
  /** Why 'auto' passed an engine over, one line each. */
  log?: (line: string) => void;
}

interface Decoded { pixels: Uint8Array }

/**
 * Xception on @xception/engines as a Classifier: 'auto' takes onnx (onnxruntime-node in a
 * worker thread) when it loads, then tfjs-node, then the wasm pool. Photos are decoded with
 * sharp (read-only) and run in batches; the photos of the next batch are decoded while this one
 * runs, as the worker's pipeline does. Everything heavy is imported lazily, so that the main
 * process and the tests that do not classify never load an engine: this module runs inside the
 * utility process (inference-host.ts).
 */
export function createEngineClassifier(options: EngineClassifierOptions): Classifier & { backend(): string | null } {
  /** The model's input side: known once the weights are read (a .keras file says it). */
  let size = options.imageSize ?? 299;
  let engine: InferenceEngine | null = null;
  let loading: Promise<void> | null = null;
  let topKOf: ((output: Float32Array, count: number, k: number) => Prediction[][]) | null = null;
  /** Decodes started ahead of their batch (`next`), by path; at most one batch's worth. */
  let ahead = new Map<string, Promise<Decoded | Error>>();
  /** The file's name until load() has hashed it (see modelIdOf). */
  let modelId = options.weights === null ? 'random' : options.weights.kind === 'imagenet' ? 'imagenet' : `file:${options.weights.path.split(/[\\/]/).pop()}`;

  /** Never rejects: a decode started ahead may never be awaited (cancel), and must not go unhandled. */
  const decode = async (photo: string): Promise<Decoded | Error> => {
    try {
      const vision = await import('@xception/vision-utils/node');
      // loadImage opens the photo read-only through sharp; the original is never written.
      return { pixels: (await vision.loadImage(photo, { size })).pixels };
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };

  const loadModel = async (onProgress?: (p: ClassifierLoadProgress) => void): Promise<void> => {
    const [runtime, vision, library] = await Promise.all([import('@xception/runtime'), import('@xception/vision-utils'), import('@xception/photo-library/rules')]);
    const source = options.weights === null ? null : options.weights.kind === 'imagenet' ? 'imagenet' : options.weights.path;
    const { registry, cacheDir, env } = options.download ?? {};
    const model = await runtime.openModel(source, {
      engine: options.engine,
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
      ...(options.log ? { log: options.log } : {}),
    }).catch((error: unknown) => { throw inSettingWords(error); });
    engine = model.engine;
    size = model.imageSize;
    modelId = model.modelId;
    // ImageNet's names for ImageNet's head, the model's class names for a trained one (which then joins no ImageNet group).
    topKOf = (output, count, k) => vision.rankClasses({ data: output, rows: count, classes: model.classes, classNames: model.classNames }, k).map((row) => library.predictionsForTags(row));
  };

  const classifyBatch = async (photos: readonly string[], topK: number, next: readonly string[] = []): Promise<Array<Classification | Error>> => {
    if (!engine || !topKOf) throw new DesktopError('classifier-failed', 'The model is not loaded; call load() first.');
    const mine = photos.map((photo) => ahead.get(photo) ?? decode(photo));
    // The next batch decodes (sharp's own threads) while this one runs in the engine's thread.
    const following = new Map<string, Promise<Decoded | Error>>();
    for (const photo of next) following.set(photo, ahead.get(photo) ?? decode(photo));
    ahead = following;
    const decoded = await Promise.all(mine);
    const good = decoded.flatMap((d, i) => (d instanceof Error ? [] : [{ i, pixels: d.pixels }]));
    const results: Array<Classification | Error> = decoded.map((d) => (d instanceof Error ? d : new Error('not run')));
    if (good.length === 0) return results;
    const image = size * size * 3;
    const pixels = new Uint8Array(good.length * image);
    good.forEach((g, j) => pixels.set(g.pixels, j * image));
    const { output, features } = await engine.run({ pixels, count: good.length, height: size, width: size });
    const top = topKOf(output, good.length, topK);
    good.forEach((g, j) => {
      results[g.i] = { predictions: top[j]!, features: features.slice(j * 2048, (j + 1) * 2048) };
    });
    return results;
  };

  return {
    get modelId() {
      return modelId;
    },
    backend: () => engine?.detail ?? null,
    async load(onProgress) {
      loading ??= loadModel(onProgress).catch((error: unknown) => {
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
      const old = engine;
      engine = null;
      loading = null;
      ahead = new Map();
      await old?.dispose();
    },
  };
}

/** The settings' words for @xception/runtime's options: "the 'onnx' engine", "the weights file x.keras". */
const settingWords: OptionWords = {
  option: (option, value) => (option === 'engine' ? `the '${value}' engine` : option === 'weights' ? `the weights ${value}` : `the image size ${value}`),
  value: (_option, value) => value,
};

/**
 * The app's one hook for @xception/runtime's errors: an engine that cannot load is a setting to
 * change; the weights' own errors go on with their codes (describeLoadError words them).
 */
function inSettingWords(error: unknown): unknown {
  if (!(error instanceof Error) || error.name !== 'RuntimeError') return error;
  const e = error as RuntimeError;
  if (e.code === 'ERR_RUNTIME_WEIGHTS') return e.cause ?? e;
  const sentence = e.describe(settingWords);
  const advice = e.code === 'ERR_ENGINE_UNAVAILABLE' ? ' Choose another engine in settings.' : '';
  return new DesktopError(e.code === 'ERR_ENGINE_UNAVAILABLE' ? 'engine-unavailable' : 'classifier-failed', `${sentence[0]!.toUpperCase()}${sentence.slice(1)}${advice}`, { cause: error });
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
