import type { CreateXceptionOptions, WeightValues } from '@xception/core';

import type { EngineName } from './engine-choices.js';

export { ENGINE_CHOICES, type EngineChoice, type EngineName } from './engine-choices.js';

/** A batch of images, NHWC: 8-bit RGB (preprocessed by the engine) or float32 already in [-1, 1]. */
export interface EngineBatch {
  pixels: Uint8Array | Float32Array;
  count: number;
  height: number;
  width: number;
}

export interface EngineResult {
  /** The model's output for the batch, row-major. */
  output: Float32Array;
  outputShape: number[];
  /** The pooled 2048-d features, [count, 2048]. */
  features: Float32Array;
}

/** The interface every executor implements (onnxruntime, tfjs in-process, the wasm pool). */
export interface InferenceEngine {
  readonly name: EngineName;
  /** For people: 'wasm, 2 worker threads'. */
  readonly detail: string;
  /** Batches it runs at once; the pipeline keeps that many in flight. */
  readonly parallelism: number;
  run(batch: EngineBatch): Promise<EngineResult>;
  dispose(): Promise<void>;
}

export interface EngineOptions {
  model: CreateXceptionOptions;
  /** Keras-named weights, or null for Keras' initialisers (seeded). */
  weights: WeightValues | null;
  /** Worker threads of the wasm pool, or onnxruntime's intra-op threads (default: the number of CPUs). */
  threads?: number;
  /**
   * onnx: where exported models are cached (default `<weights cache>/onnx`; seeded random
   * weights by their seed); null: export to a temporary file at every start.
   */
  onnxCacheDir?: string | null;
  /** onnx: 'cpu' never tries the CUDA provider; 'cuda' fails rather than fall back to the CPU (the CLI's --device; apps/worker/src/device/cuda-detect.ts decides it). */
  device?: 'auto' | 'cpu' | 'cuda';
}
