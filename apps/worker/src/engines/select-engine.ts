import { CliError } from '../cli-error.js';
import type { EngineChoice, EngineOptions, InferenceEngine } from './engine.js';
import { probeTfjsNode } from './tfjs-node-probe.js';
import { createInProcessEngine } from './tfjs-engine.js';
import { createWasmPoolEngine } from './wasm-pool-engine.js';

/**
 * 'auto' prefers tfjs-node (native, CUDA with -node-gpu), then the wasm pool, then cpu, and
 * says in one line why it fell back. A forced engine that cannot load is an error.
 */
export async function selectEngine(choice: EngineChoice, options: EngineOptions, log: (line: string) => void): Promise<InferenceEngine> {
  if (choice === 'tfjs-node' || choice === 'auto') {
    const probe = await probeTfjsNode();
    if (probe.available) return createInProcessEngine('tensorflow', options, `tfjs-node (${probe.detail})`);
    if (choice === 'tfjs-node') {
      throw new CliError('ERR_ENGINE_UNAVAILABLE', `--engine tfjs-node cannot load: ${probe.detail}; install @tensorflow/tfjs-node (or -node-gpu) where libtensorflow can be downloaded, or use --engine wasm.`);
    }
    log(`engine: tfjs-node not used (${probe.detail}); using the wasm pool`);
  }
  if (choice === 'wasm' || choice === 'auto') {
    try {
      return await createWasmPoolEngine(options);
    } catch (error) {
      if (choice === 'wasm') throw new CliError('ERR_ENGINE_UNAVAILABLE', `--engine wasm cannot start: ${(error as Error).message}.`);
      log(`engine: the wasm pool did not start (${(error as Error).message}); using cpu, which is slow`);
    }
  }
  return createInProcessEngine('cpu', options, 'cpu (pure JavaScript)');
}
