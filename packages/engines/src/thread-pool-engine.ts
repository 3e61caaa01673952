import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { decodedWeights, type DecodedEngineOptions, type EngineBatch, type EngineOptions, type EngineResult, type InferenceEngine } from './engine.js';
import type { ThreadData, ThreadKind } from './engine-thread.js';
import { prepareOnnxModel } from './onnx-model-file.js';
import { threadEntry, workerSource } from './thread-entry.js';

interface PoolThread {
  worker: Worker;
  /** Batches sent and not yet answered. */
  busy: number;
  detail: string;
}

/**
 * Engines that run in worker threads, leaving the main thread free to list, decode and write.
 *
 * The wasm pool: threads each with their own wasm backend and copy of the model; a batch goes
 * to the least busy thread, and batches wait in order when all are busy.
 */
export async function createWasmPoolEngine(options: EngineOptions): Promise<InferenceEngine> {
  const count = Math.max(1, options.threads ?? availableParallelism());
  return createThreadPoolEngine('wasm', { ...options, weights: await decodedWeights(options.weights) }, count, 1, () => `wasm, ${count} worker thread${count === 1 ? '' : 's'}`);
}

/**
 * onnxruntime-node in one worker thread (the session spreads each batch over `threads` cores
 * itself), with two batches queued so that the next starts the moment the last one ends.
 */
export async function createOnnxThreadEngine(options: EngineOptions): Promise<InferenceEngine> {
  // The model file is made here (weights still in their file are decoded only if its cache lacks it); the thread gets its path, not a copy of the weights.
  const model = options.onnxModel ? { ...options.onnxModel, release: () => undefined } : await prepareOnnxModel(options.model, options.weights, options.onnxCacheDir);
  try {
    return await createThreadPoolEngine('onnx', { ...options, weights: null }, 1, 2, (detail) => `${detail}, in a worker thread`, { path: model.path, source: model.source, cached: model.cached });
  } finally {
    model.release();
  }
}

async function createThreadPoolEngine(
  kind: ThreadKind, options: DecodedEngineOptions, count: number, perThread: number, describe: (threadDetail: string) => string,
  onnxModel?: ThreadData['onnxModel'],
): Promise<InferenceEngine> {
  const { source, eval: isEval } = workerSource(threadEntry('engine-thread'));
  const threads: PoolThread[] = [];
  const waiting: Array<() => void> = [];
  let nextId = 0;
  const pending = new Map<number, { resolve: (r: EngineResult) => void; reject: (e: Error) => void }>();

  const start = (): Promise<PoolThread> => new Promise((resolve, reject) => {
    const data: ThreadData = { kind, options, ...(onnxModel ? { onnxModel } : {}) };
    const worker = new Worker(source, { eval: isEval, workerData: data });
    const thread: PoolThread = { worker, busy: 0, detail: kind };
    worker.once('message', (m: { ready: boolean; detail?: string; error?: string }) => {
      if (!m.ready) {
        void worker.terminate();
        return reject(new Error(`a ${kind} worker thread failed to start: ${m.error}`));
      }
      thread.detail = m.detail ?? kind;
      worker.on('message', (msg: { id: number; result?: EngineResult; error?: string }) => {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        if (msg.result) p.resolve(msg.result);
        else p.reject(new Error(msg.error));
      });
      resolve(thread);
    });
    worker.once('error', (error) => {
      reject(error);
      for (const p of pending.values()) p.reject(new Error(`a ${kind} worker thread stopped: ${error.message}`));
      pending.clear();
    });
  });

  threads.push(...(await Promise.all(Array.from({ length: count }, start))));

  const acquire = async (): Promise<PoolThread> => {
    for (;;) {
      const idle = threads.reduce<PoolThread | undefined>((best, t) => (t.busy < perThread && (!best || t.busy < best.busy) ? t : best), undefined);
      if (idle) {
        idle.busy++;
        return idle;
      }
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
  };

  return {
    name: kind,
    detail: describe(threads[0]!.detail),
    parallelism: count * perThread,
    async run(batch: EngineBatch) {
      const thread = await acquire();
      try {
        const id = nextId++;
        return await new Promise<EngineResult>((resolve, reject) => {
          pending.set(id, { resolve, reject });
          // Copy, not transfer: the caller may still read its buffer.
          thread.worker.postMessage({ id, batch });
        });
      } finally {
        thread.busy--;
        waiting.shift()?.();
      }
    },
    async dispose() {
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}

