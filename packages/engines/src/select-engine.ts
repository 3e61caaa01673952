import { decodedWeights, isDecodeError, type EngineChoice, type EngineOptions, type InferenceEngine } from './engine.js';
import { EngineError } from './engine-error.js';
import { DISABLE_ONNX_ENV, probeOnnxRuntime, type OrtLoader } from './onnx-probe.js';
import { probeTfjsNode } from './tfjs-node-probe.js';
import { createInProcessEngine } from './tfjs-engine.js';
import { createOnnxThreadEngine, createWasmPoolEngine } from './thread-pool-engine.js';

export interface SelectEngineDeps {
  /** How onnxruntime-node is imported (tests inject one that fails). */
  onnxLoader?: OrtLoader;
}

/**
 * 'auto' prefers onnx (onnxruntime-node: CUDA where its libraries are installed, else about
 * 7x faster than the wasm pool on CPU), then tfjs-node (native, CUDA with -node-gpu), then the
 * wasm pool, then cpu, and says in one line why it passed each one over. A forced engine that
 * cannot load is an EngineError, worded in this library's terms (`engine: 'onnx'`).
 */
export async function selectEngine(choice: EngineChoice, given: EngineOptions, log: (line: string) => void, deps: SelectEngineDeps = {}): Promise<InferenceEngine> {
  let options = given;
  if (choice === 'onnx' || choice === 'auto') {
    const probe = await probeOnnxRuntime(deps.onnxLoader);
    if (probe.available) {
      try {
        return await createOnnxThreadEngine(options);
      } catch (error) {
        if (isDecodeError(error)) throw error; // the weights file's error (its typed one), not the engine's
        if (choice === 'onnx') throw new EngineError('ERR_ENGINE_UNAVAILABLE', 'onnx', `cannot start: ${firstLine(error)}`, '');
        log(`engine: onnx not used (onnxruntime-node loaded but its session did not start: ${firstLine(error)}); trying tfjs-node`);
      }
    } else if (choice === 'onnx') {
      throw new EngineError('ERR_ENGINE_UNAVAILABLE', 'onnx', `cannot load: ${probe.detail}`, `install onnxruntime-node (its CPU build needs no download)${probe.detail.startsWith(DISABLE_ONNX_ENV) ? ` or unset ${DISABLE_ONNX_ENV}` : ''}`);
    } else {
      log(`engine: onnx not used (${probe.detail}); trying tfjs-node`);
    }
  }
  // The tfjs engines build the model from the values: weights still in their file are decoded now.
  options = { ...options, weights: await decodedWeights(options.weights) };
  if (choice === 'tfjs-node' || choice === 'auto') {
    const probe = await probeTfjsNode();
    if (probe.available) return createInProcessEngine('tensorflow', options, `tfjs-node (${probe.detail})`);
    if (choice === 'tfjs-node') {
      throw new EngineError('ERR_ENGINE_UNAVAILABLE', 'tfjs-node', `cannot load: ${probe.detail}`, 'install @tensorflow/tfjs-node (or -node-gpu) where libtensorflow can be downloaded');
    }
    log(`engine: tfjs-node not used (${probe.detail}); using the wasm pool`);
  }
  if (choice === 'wasm' || choice === 'auto') {
    try {
      return await createWasmPoolEngine(options);
    } catch (error) {
      if (choice === 'wasm') throw new EngineError('ERR_ENGINE_UNAVAILABLE', 'wasm', `cannot start: ${firstLine(error)}`, '', null);
      log(`engine: the wasm pool did not start (${(error as Error).message}); using cpu, which is slow`);
    }
  }
  return createInProcessEngine('cpu', options, 'cpu (pure JavaScript)');
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.slice(0, 200);
}
