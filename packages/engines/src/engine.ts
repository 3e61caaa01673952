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

/**
 * Weights still in their file, decoded only when an engine needs the values: the onnx engine
 * needs them only to export a model its cache lacks, so a cache hit never reads them.
 * @xception/weights' openClassifierWeights() gives these.
 */
export interface DeferredWeights {
  /**
   * What the values are a function of, in the ONNX cache key instead of the values themselves:
   * the weights file's SHA-256 and how it is read (the top kept or not). The reader's code is in
   * the key too (exporterFingerprint), so equal ids with equal code mean equal values.
   */
  readonly id: string;
  /** The values (decoded once; later calls give the same map). */
  decode(): Promise<WeightValues>;
}

export function isDeferredWeights(weights: WeightValues | DeferredWeights | null): weights is DeferredWeights {
  return weights !== null && typeof (weights as Partial<DeferredWeights>).decode === 'function';
}

const decodeErrors = new WeakSet<object>();

/** The values of weights that may still be in their file. */
export async function decodedWeights(weights: WeightValues | DeferredWeights | null): Promise<WeightValues | null> {
  if (!isDeferredWeights(weights)) return weights;
  try {
    return await weights.decode();
  } catch (error) {
    if (typeof error === 'object' && error !== null) decodeErrors.add(error);
    throw error;
  }
}

/** Whether decoding weights (the file's own error: damaged, not Xception's) threw this, not an engine. */
export function isDecodeError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && decodeErrors.has(error);
}

/** EngineOptions with the values at hand: what builds a tfjs model or exports an ONNX one. */
export type DecodedEngineOptions = Omit<EngineOptions, 'weights'> & { weights: WeightValues | null };

export interface EngineOptions {
  model: CreateXceptionOptions;
  /** Keras-named weights (or a file's, not yet decoded: see DeferredWeights), or null for Keras' initialisers (seeded). */
  weights: WeightValues | DeferredWeights | null;
  /** Worker threads of the wasm pool, or onnxruntime's intra-op threads (default: the number of CPUs). */
  threads?: number;
  /**
   * onnx: where exported models are cached (default `<weights cache>/onnx`; seeded random
   * weights by their seed); null: export to a temporary file at every start.
   */
  onnxCacheDir?: string | null;
  /** onnx: 'cpu' never tries the CUDA provider; 'cuda' fails rather than fall back to the CPU (the `device` option; @xception/runtime's decideDevice decides it). */
  device?: 'auto' | 'cpu' | 'cuda';
  /** onnx: a model file prepared already (the int8 model of prepareInt8Model), run instead of the fp32 export. */
  onnxModel?: { path: string; source: string; cached: boolean };
}
