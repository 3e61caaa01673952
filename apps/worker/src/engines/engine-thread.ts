import { parentPort, workerData } from 'node:worker_threads';
import type { EngineBatch, EngineOptions } from './engine.js';
import { activateBackend, createModelRunner, type ModelRunner } from './model-runner.js';

/**
 * One thread of the wasm pool: its own tfjs-core engine and wasm backend (tfjs turns wasm
 * threads off in Node, so parallelism comes from several single-threaded backends).
 */
interface RunMessage { id: number; batch: EngineBatch }

async function main(): Promise<void> {
  let runner: ModelRunner;
  try {
    await activateBackend('wasm');
    runner = createModelRunner(workerData as EngineOptions);
    parentPort!.postMessage({ ready: true });
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
