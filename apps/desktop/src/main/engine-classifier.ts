import type { EngineChoice, Prediction, WeightsChoice } from '../shared/api.js';
import type { Classification, Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError, messageOf } from './errors.js';
import type { WeightsRegistry } from '@xception/weights';

export interface XceptionEngineOptions {
  engine: EngineChoice;
  /** ImageNet (downloaded and cached by @xception/weights), a file, or null: random weights (tests only). */
  weights: WeightsChoice | null;
  /** Photos per forward pass is 1: tagging is a stream, and batch 1 keeps pause/cancel prompt. */
  imageSize?: number;
  /**
   * Where the ImageNet weights come from and are cached (@xception/weights' defaults when
   * absent: Keras' addresses, the user's cache folder, process.env for proxies). Tests point
   * `registry` at a server on 127.0.0.1.
   */
  download?: { registry?: WeightsRegistry; cacheDir?: string; env?: NodeJS.ProcessEnv };
  /** With weights null: the random model's input shape and seed (tests compare engines on tiny inputs). */
  random?: { inputShape?: [number, number, number]; seed?: number };
}

type Module = Record<string, unknown>;
const importOptional = async (specifier: string): Promise<Module | null> => {
  try {
    return (await import(/* @vite-ignore */ specifier)) as Module;
  } catch {
    return null;
  }
};

/**
 * Xception on the best tfjs backend that loads, as a Classifier. Everything heavy is imported
 * lazily, so that the main process and the tests never load tfjs: this module runs inside the
 * utility process (inference-host.ts). 'auto' tries tfjs-node (native, optional: its install
 * script downloads libtensorflow, so it is often absent) and falls back to the wasm backend.
 */
export function createXceptionEngine(options: XceptionEngineOptions): Classifier & { backend(): string | null } {
  let model: { predictWithFeatures(x: unknown): { output: { dataSync(): ArrayLike<number>; dispose(): void }; features: { dataSync(): ArrayLike<number>; dispose(): void } }; dispose(): void } | null = null;
  let tf: Module | null = null;
  let backend: string | null = null;
  let loading: Promise<void> | null = null;
  const modelId = options.weights === null ? 'random' : options.weights.kind === 'imagenet' ? 'imagenet' : `file:${options.weights.path.split(/[\\/]/).pop()}`;

  const chooseBackend = async (): Promise<void> => {
    tf = (await import('@tensorflow/tfjs-core')) as unknown as Module;
    const setBackend = tf.setBackend as (name: string) => Promise<boolean>;
    if (options.engine !== 'wasm' && (await importOptional('@tensorflow/tfjs-node')) && (await setBackend('tensorflow').catch(() => false))) {
      backend = 'tensorflow';
    } else if (options.engine === 'tfjs-node') {
      throw new DesktopError('engine-unavailable', "The 'tfjs-node' engine is not installed; install @tensorflow/tfjs-node or choose 'auto' or 'wasm' in settings.");
    } else {
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await setBackend('wasm'))) throw new DesktopError('engine-unavailable', 'The wasm backend failed to start; choose another engine in settings.');
      backend = 'wasm';
    }
    await (tf.ready as () => Promise<void>)();
  };

  const loadModel = async (onProgress?: (p: ClassifierLoadProgress) => void): Promise<void> => {
    await chooseBackend();
    const core = (await import('@xception/core')) as unknown as Module;
    const createFromValues = core.createXceptionFromValues as (o: object, v: unknown) => typeof model;
    if (options.weights === null) {
      model = createFromValues({ weights: null, ...options.random }, null);
      return;
    }
    const weights = (await import('@xception/weights')) as unknown as Module;
    // loadXception (download with progress, cache, typed errors) is the weights package's
    // entry point; a bare file also loads through its Keras .h5 reader.
    if (typeof weights.loadXception === 'function') {
      const source = options.weights.kind === 'imagenet' ? 'imagenet' : options.weights.path;
      // Its progress events are { phase, bytes, totalBytes }; the toolbar shows the download.
      const report = (event: { phase?: string; bytes?: number; totalBytes?: number | null }): void => {
        if (event.phase === 'download' && typeof event.bytes === 'number') onProgress?.({ loaded: event.bytes, total: event.totalBytes ?? null });
      };
      model = (await (weights.loadXception as (o: object) => Promise<typeof model>)({ weights: source, onProgress: report, ...options.download })) ?? null;
      return;
    }
    if (options.weights.kind === 'file' && options.weights.path.toLowerCase().endsWith('.h5')) {
      const reading = (await (weights.readKerasH5 as (p: string) => Promise<{ values: unknown }>)(options.weights.path)) as { values: unknown };
      model = createFromValues({ weights: options.weights.path }, reading.values);
      return;
    }
    throw new DesktopError('weights-unavailable', 'This build cannot download the ImageNet weights yet; choose a Keras .h5 weights file in settings.');
  };

  return {
    modelId,
    backend: () => backend,
    async load(onProgress) {
      loading ??= loadModel(onProgress).catch((error: unknown) => {
        loading = null;
        throw error;
      });
      await loading;
    },
    async classify(photo, topK): Promise<Classification> {
      if (!model || !tf) throw new DesktopError('classifier-failed', 'The model is not loaded; call load() first.');
      const vision = (await import('@xception/vision-utils/node')) as unknown as Module;
      const size = options.imageSize ?? 299;
      // loadImage opens the photo read-only through sharp; the original is never written.
      const image = await (vision.loadImage as (p: string, o: object) => Promise<unknown>)(photo, { size });
      const input = (vision.imagesToTensor as (i: unknown) => { dispose(): void })(image);
      try {
        const { output, features } = model.predictWithFeatures(input);
        try {
          const decoded = (vision.decodePredictions as (p: unknown, top: number) => { index: number; label: string; score: number }[][])(output, topK)[0] ?? [];
          const predictions: Prediction[] = decoded.map((p) => ({ index: p.index, label: p.label, score: p.score }));
          return { predictions, features: Float32Array.from(features.dataSync()) };
        } finally {
          output.dispose();
          features.dispose();
        }
      } finally {
        input.dispose();
      }
    },
    async dispose() {
      model?.dispose();
      model = null;
      loading = null;
    },
  };
}

/** One sentence for the user when the model cannot load (the weights package's typed codes). */
export function describeLoadError(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ERR_DOWNLOAD_OFFLINE') return 'You are offline and the ImageNet weights are not downloaded yet: connect once to download them (about 88 MB), or choose a weights file in settings.';
  if (code === 'ERR_DOWNLOAD_HTTP' || code === 'ERR_DOWNLOAD_TRUNCATED' || code === 'ERR_DOWNLOAD_HASH') return `The ImageNet weights download failed (${messageOf(error)}); try again later or choose a weights file in settings.`;
  return messageOf(error);
}
