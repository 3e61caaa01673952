import type { EngineChoice, GpuInfo, InferenceReply, InferenceRequest, Prediction, WebglModelPayload } from '../shared/api.js';
import type { Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError } from './errors.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export interface RendererClassifierOptions {
  modelId: string;
  /** webContents.send(CHANNELS.inferenceRequest, request) in the app; a Chromium page in tests. */
  send(request: InferenceRequest): void;
  /** The weights for the renderer (read in main: downloaded, converted, or seeded random in tests). */
  loadModel(onProgress?: (p: ClassifierLoadProgress) => void): Promise<WebglModelPayload>;
  /** Decodes one photo read-only to RGB at the model's size (sharp in main, like the utility engine). */
  decode(photo: string): Promise<{ pixels: Uint8Array; width: number; height: number }>;
  /** Top-k predictions from the probabilities (webglTopK). */
  decodePredictions(probabilities: Float32Array, topK: number): Prediction[];
}

/**
 * A Classifier whose forward passes run in the renderer on WebGL ('webgl' engine). Main keeps
 * everything else: it decodes the photo, sends pixels over the typed bridge, and gets
 * probabilities and pooled features back, so the same tagging queue, sidecars and index
 * record the result. Replies come in through receive() (the inferenceReply IPC handler).
 */
export function createRendererClassifier(options: RendererClassifierOptions): Classifier & { receive(reply: InferenceReply): void; backend(): string | null } {
  let nextId = 1;
  let backend: string | null = null;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const request = (message: WithoutId<InferenceRequest>, transfer?: unknown): Promise<unknown> => {
    void transfer;
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      try {
        options.send({ ...message, id } as InferenceRequest);
      } catch (error) {
        pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  };
  return {
    modelId: options.modelId,
    backend: () => backend,
    receive(reply) {
      const entry = pending.get(reply.id);
      if (!entry) return;
      pending.delete(reply.id);
      if (reply.ok) entry.resolve(reply.result);
      else entry.reject(new DesktopError('ERR_CLASSIFIER_FAILED', `The webgl engine failed: ${reply.message}`));
    },
    async load(onProgress) {
      const model = await options.loadModel(onProgress);
      const loaded = (await request({ type: 'load', model })) as { backend: string; where: string };
      backend = `${loaded.backend} (${loaded.where})`;
    },
    async classify(photo, topK) {
      const { pixels, width, height } = await options.decode(photo);
      const result = (await request({ type: 'classify', pixels, width, height })) as { probabilities: ArrayLike<number>; features: ArrayLike<number> };
      const probabilities = Float32Array.from(result.probabilities);
      return { predictions: options.decodePredictions(probabilities, topK), features: Float32Array.from(result.features) };
    },
    async dispose() {
      if (pending.size === 0 && backend === null) return;
      await request({ type: 'dispose' }).catch(() => undefined);
      backend = null;
      for (const entry of pending.values()) entry.reject(new DesktopError('ERR_CLASSIFIER_FAILED', 'The webgl engine was stopped.'));
      pending.clear();
    },
  };
}

/**
 * Where a setting runs: 'webgl' in the renderer, when chosen by name; everything else, 'auto'
 * included, in the utility process on @xception/engines (onnx, then tfjs-node, then the wasm
 * pool). The GPU report stays for Settings, which shows where webgl would run.
 */
export function resolveEngine(choice: EngineChoice, gpu: GpuInfo | null): 'webgl' | 'utility' {
  void gpu;
  return choice === 'webgl' ? 'webgl' : 'utility';
}

/**
 * Probabilities to top-k predictions (no tfjs needed in main), named as the utility engine
 * names them (@xception/vision-utils' rankClasses, then the tag rules' class numbers). The
 * webgl engine only runs ImageNet's head (webglWeightsFrom refuses others), hence 1000 classes.
 */
export async function webglTopK(): Promise<(p: Float32Array, k: number) => Prediction[]> {
  const [vision, library] = await Promise.all([import('@xception/vision-utils'), import('@xception/photo-library/rules')]);
  return (probabilities, k) => library.predictionsForTags(vision.rankClasses({ data: probabilities, rows: 1, classes: probabilities.length }, k)[0] ?? []);
}

/**
 * Named float32 arrays for the renderer, from @xception/weights' reader (ImageNet download or a
 * file). The renderer builds ImageNet's model (1000 classes at 299x299): a trained model's
 * other classes or size are refused in settings' words rather than run under ImageNet's names.
 */
export async function webglWeightsFrom(source: 'imagenet' | string, onProgress?: (p: ClassifierLoadProgress) => void, download: Record<string, unknown> = {}): Promise<WebglModelPayload> {
  const weights = await import('@xception/weights');
  const reading = await weights.readClassifierWeights(source, {
    onProgress: (event) => {
      if (event.phase === 'download') onProgress?.({ loaded: event.bytes, total: event.totalBytes ?? null });
    },
    ...download,
  });
  const size = reading.inputSize ?? 299;
  if (reading.classes !== 1000 || reading.classNames !== null || size !== 299) {
    const name = source.split(/[\\/]/).pop();
    throw new DesktopError('ERR_ENGINE_UNAVAILABLE', `The 'webgl' engine runs ImageNet's 1000 classes at 299x299 only, and ${name} has ${reading.classNames ? `its own ${reading.classes} classes` : `${reading.classes} classes`} at ${size}x${size}; choose auto, onnx or wasm as the engine in settings.`);
  }
  return { inputShape: null, weights: [...reading.values].map(([name, w]) => ({ name, shape: [...w.shape], values: w.values })) };
}
