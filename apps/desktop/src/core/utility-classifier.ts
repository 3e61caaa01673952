import type { Settings } from '../shared/api.js';
import type { Classification, Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError, type DesktopErrorCode } from './errors.js';
import type { ClassifyReply, HostRequest, HostResponse, LoadReply } from './inference-protocol.js';

/** The part of Electron's UtilityProcess this module uses (injected: tests pass a stand-in). */
export interface UtilityProcessLike {
  postMessage(message: HostRequest): void;
  on(event: 'message', listener: (message: HostResponse) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve(value: unknown): void; reject(error: Error): void; onProgress?: (p: ClassifierLoadProgress) => void };

export interface UtilityClassifierOptions {
  /** Seeded random weights instead of the settings' (tests and benchmarks only). */
  randomWeights?: { seed?: number; imageSize?: number };
  /** Thumbnails of this side from the host's decodes (engine-classifier's thumbnailSize). */
  thumbnailSize?: number;
  /** With precision int8: the photos to calibrate on when no calibrated model is cached. */
  calibrationPhotos?: readonly string[];
}

/** The host's codes that the main process acts on (the precision setting's fallback, the engine setting); others read as a failed classifier. */
const CARRIED_CODES: readonly DesktopErrorCode[] = ['ERR_PRECISION_REFUSED', 'ERR_PRECISION_UNAVAILABLE', 'ERR_ENGINE_UNAVAILABLE'];
const carriedCode = (code: string | undefined): DesktopErrorCode => CARRIED_CODES.find((c) => c === code) ?? 'ERR_CLASSIFIER_FAILED';

/**
 * A Classifier backed by the inference utility process (`utilityProcess.fork(inference-host)`),
 * which runs @xception/engines. Photos go over in batches, each naming the batch after it so
 * that the host decodes that one while this one runs. If the process dies, every pending
 * request fails with a clear message and the next load() forks a new one.
 */
export function createUtilityClassifier(fork: () => UtilityProcessLike, settings: Settings, options: UtilityClassifierOptions = {}): Classifier & { backend(): string | null; int8Note(): string | null } {
  let loaded: LoadReply | null = null;
  let child: UtilityProcessLike | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const ensureChild = (): UtilityProcessLike => {
    if (child) return child;
    const created = fork();
    created.on('message', (message: HostResponse) => {
      const entry = pending.get(message.id);
      if (!entry) return;
      if ('progress' in message) {
        entry.onProgress?.(message.progress);
        return;
      }
      pending.delete(message.id);
      if (message.ok) entry.resolve(message.result);
      else entry.reject(new DesktopError(carriedCode(message.code), message.message));
    });
    created.on('exit', (code: number) => {
      child = null;
      for (const entry of pending.values()) entry.reject(new DesktopError('ERR_CLASSIFIER_FAILED', `The inference process stopped (exit code ${code}); tagging will restart it.`));
      pending.clear();
    });
    child = created;
    return created;
  };

  const request = (message: WithoutId<HostRequest>, onProgress?: (p: ClassifierLoadProgress) => void): Promise<unknown> => {
    const id = nextId++;
    const target = ensureChild();
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      target.postMessage({ ...message, id } as HostRequest);
    });
  };

  const classifyBatch = async (photos: readonly string[], topK: number, next: readonly string[] = [], thumbnails: readonly string[] = []): Promise<Array<Classification | Error>> => {
    const reply = (await request({ type: 'classify', photos: [...photos], topK, next: [...next], thumbnails: [...thumbnails] })) as ClassifyReply;
    return reply.items.map((item) => ('error' in item ? new DesktopError('ERR_CLASSIFIER_FAILED', item.error) : { predictions: item.predictions, features: Float32Array.from(item.features), ...(item.thumbnail ? { thumbnail: Uint8Array.from(item.thumbnail) } : {}) }));
  };
  const random = options.randomWeights;

  return {
    // The host's id once loaded (a file's name and hash); the file's name until then.
    get modelId() {
      return loaded?.modelId ?? (random ? 'random' : settings.weights.kind === 'imagenet' ? 'imagenet' : `file:${settings.weights.path.split(/[\\/]/).pop()}`);
    },
    backend: () => loaded?.backend ?? null,
    int8Note: () => loaded?.int8Note ?? null,
    async load(onProgress) {
      const engine = settings.engine === 'webgl' ? 'auto' : settings.engine; // webgl runs in the renderer, never here
      loaded = (await request({
        type: 'load', engine, weights: random ? null : settings.weights,
        ...(random ? { random: random.seed === undefined ? {} : { seed: random.seed }, ...(random.imageSize ? { imageSize: random.imageSize } : {}) } : {}),
        ...(options.thumbnailSize ? { thumbnailSize: options.thumbnailSize } : {}),
        ...(settings.precision === 'int8' ? { precision: 'int8' as const, calibrationPhotos: [...(options.calibrationPhotos ?? [])] } : {}),
      }, onProgress)) as LoadReply;
    },
    classifyBatch,
    async classify(photo, topK) {
      const [result] = await classifyBatch([photo], topK);
      if (result instanceof Error) throw result;
      return result!;
    },
    async dispose() {
      loaded = null;
      if (!child) return;
      await request({ type: 'dispose' }).catch(() => undefined);
      child?.kill();
      child = null;
    },
  };
}
