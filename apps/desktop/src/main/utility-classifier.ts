import type { Settings } from '../shared/api.js';
import type { Classifier, ClassifierLoadProgress } from './classifier.js';
import { DesktopError } from './errors.js';
import type { ClassifyReply, HostRequest, HostResponse } from './inference-protocol.js';

/** The part of Electron's UtilityProcess this module uses (injected: tests pass a stand-in). */
export interface UtilityProcessLike {
  postMessage(message: HostRequest): void;
  on(event: 'message', listener: (message: HostResponse) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve(value: unknown): void; reject(error: Error): void; onProgress?: (p: ClassifierLoadProgress) => void };

/**
 * A Classifier backed by the inference utility process (`utilityProcess.fork(inference-host)`).
 * If the process dies, every pending request fails with a clear message and the next load()
 * forks a new one.
 */
export function createUtilityClassifier(fork: () => UtilityProcessLike, settings: Settings): Classifier {
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
      else entry.reject(new DesktopError('classifier-failed', message.message));
    });
    created.on('exit', (code: number) => {
      child = null;
      for (const entry of pending.values()) entry.reject(new DesktopError('classifier-failed', `The inference process stopped (exit code ${code}); tagging will restart it.`));
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

  return {
    modelId: settings.weights.kind === 'imagenet' ? 'imagenet' : `file:${settings.weights.path.split(/[\\/]/).pop()}`,
    async load(onProgress) {
      await request({ type: 'load', engine: settings.engine, weights: settings.weights }, onProgress);
    },
    async classify(photo, topK) {
      const reply = (await request({ type: 'classify', photo, topK })) as ClassifyReply;
      return { predictions: reply.predictions, features: Float32Array.from(reply.features) };
    },
    async dispose() {
      if (!child) return;
      await request({ type: 'dispose' }).catch(() => undefined);
      child?.kill();
      child = null;
    },
  };
}
