import * as tf from '@tensorflow/tfjs-core';
import { ClassifierError, reasonOf } from '../classifier-error.js';

export type BrowserBackend = 'auto' | 'webgl' | 'wasm';

/**
 * Registers and selects tfjs' backend, then awaits tf.ready() (the step whose absence makes a
 * bare tfjs page throw "backend 'wasm' has not yet been initialized"). 'auto': webgl (the GPU),
 * then wasm. wasm fetches its .wasm binaries from `wasmPaths` (a folder URL ending in '/'),
 * by default from beside the page's script.
 */
export async function setUpBackend(choice: BrowserBackend, wasmPaths: string | undefined): Promise<string> {
  const order: Array<'webgl' | 'wasm'> = choice === 'auto' ? ['webgl', 'wasm'] : [choice];
  const reasons: string[] = [];
  for (const name of order) {
    try {
      if (name === 'webgl') await import('@tensorflow/tfjs-backend-webgl');
      else {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        if (wasmPaths) wasm.setWasmPaths(wasmPaths);
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      reasons.push(`${name} did not initialise`);
    } catch (error) {
      reasons.push(`${name}: ${reasonOf(error)}`);
    }
  }
  throw new ClassifierError('ERR_CLASSIFIER_ENGINE', `backend: '${choice}' found no tfjs backend that starts in this browser (${reasons.join('; ')}); ${order.includes('wasm') ? 'serve the tfjs-backend-wasm .wasm files and pass their folder as wasmPaths' : "use backend: 'auto'"}.`);
}
