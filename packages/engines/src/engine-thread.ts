import { parentPort, workerData } from 'node:worker_threads';
import type { DecodedEngineOptions, EngineBatch, EngineResult } from './engine.js';

/**
 * One inference thread, so that the main thread stays free to list, decode and write:
 * - 'wasm': its own tfjs-core engine and wasm backend (tfjs turns wasm threads off in Node, so
 *   parallelism comes from several single-threaded backends);
 * - 'onnx': an onnxruntime-node session, whose run() works on the calling JavaScript thread and
 *   would otherwise stall decoding for the whole batch.
 */
export type ThreadKind = 'wasm' | 'onnx';
export interface ThreadData {
  kind: ThreadKind;
  options: DecodedEngineOptions;
  /** onnx: the model file the main thread prepared (then options carry no weights). */
  onnxModel?: { path: string; source: string; cached: boolean };
}
interface RunMessage { id: number; batch: EngineBatch }
interface Runner { detail: string; run(batch: EngineBatch): Promise<EngineResult> }

async function start({ kind, options, onnxModel }: ThreadData): Promise<Runner> {
  if (kind === 'onnx') {
    const { createOnnxEngine } = await import('./onnx-engine.js');
    const engine = await createOnnxEngine(options, undefined, onnxModel);
    return { detail: engine.detail, run: (batch) => engine.run(batch) };
  }
  // tfjs only in the wasm threads: an onnx thread never loads it.
  const { activateBackend, createModelRunner } = await import('./model-runner.js');
  await activateBackend('wasm');
  const runner = createModelRunner(options);
  return { detail: 'wasm', run: (batch) => runner.run(batch) };
}

async function main(): Promise<void> {
  let runner: Runner;
  try {
    runner = await start(workerData as ThreadData);
    parentPort!.postMessage({ ready: true, detail: runner.detail });
  } catch (error) {
    parentPort!.postMessage({ ready: false, error: String(error instanceof Error ? error.message : error) });
    return;
  }
  parentPort!.on('message', async ({ id, batch }: RunMessage) => {
    try {
      const result = await runner.run(batch);
      parentPort!.postMessage({ id, result }, [result.output.buffer as ArrayBuffer, result.features.buffer as ArrayBuffer]);
    } catch (error) {
      parentPort!.postMessage({ id, error: String(error instanceof Error ? error.message : error) });
    }
  });
}

void main();
