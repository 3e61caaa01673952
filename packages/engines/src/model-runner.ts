import * as tf from '@tensorflow/tfjs-core';
import { createXceptionFromValues, silenceCpuBackendBanner, type XceptionModel } from '@xception/core';
import { preprocessInput } from '@xception/vision-utils';
import type { DecodedEngineOptions, EngineBatch, EngineResult } from './engine.js';

/**
 * Builds the model on the active tfjs backend and runs batches of raw pixels through it: the
 * part shared by the in-process engine and each thread of the wasm pool.
 */
export interface ModelRunner {
  run(batch: EngineBatch): Promise<EngineResult>;
  dispose(): void;
}

export function createModelRunner(options: DecodedEngineOptions): ModelRunner {
  const model: XceptionModel = createXceptionFromValues(options.model, options.weights);
  return {
    async run(batch) {
      const floats = batch.pixels instanceof Float32Array ? batch.pixels : preprocessInput(batch.pixels);
      const x = tf.tensor4d(floats, [batch.count, batch.height, batch.width, 3], 'float32');
      try {
        const { output, features } = model.predictWithFeatures(x);
        try {
          const [o, f] = await Promise.all([output.data(), features.data()]);
          return { output: o as Float32Array, outputShape: output.shape, features: f as Float32Array };
        } finally {
          tf.dispose([output, features]);
        }
      } finally {
        x.dispose();
      }
    },
    dispose() {
      model.dispose();
    },
  };
}

/** Registers and selects a backend; tfjs-node's is 'tensorflow'. */
export async function activateBackend(name: 'tensorflow' | 'wasm' | 'cpu'): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  if (!(await tf.setBackend(name))) throw new Error(`the tfjs '${name}' backend did not initialise`);
  await tf.ready();
  // Chosen on purpose ('cpu' for small work): not the place for tfjs' "install tfjs-node" banner.
  if (name === 'cpu') await silenceCpuBackendBanner();
}
