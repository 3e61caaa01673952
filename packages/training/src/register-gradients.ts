import * as tf from '@tensorflow/tfjs-core';

/**
 * Makes tfjs-core's autodiff usable: bundlers and @tensorflow/tfjs register the gradient
 * functions, plain Node does not (see scripts/bundle-gradients.mjs), so the built package loads
 * its bundled copy when they are missing. Fine-tuning needs them; the head does not.
 */
export async function ensureGradients(): Promise<void> {
  if (tf.getGradient('Add')) return;
  // Beside this file in dist/; from src/ (sources run through tsx), in the built dist/.
  const candidates = [new URL('./tfjs-gradients.mjs', import.meta.url), new URL('../dist/tfjs-gradients.mjs', import.meta.url)];
  for (const bundled of candidates) {
    try {
      await import(bundled.href);
      return;
    } catch {
      // try the next place
    }
  }
  throw new Error(`tfjs-core's gradients are not registered and ${candidates[0]!.pathname} did not load; import '@tensorflow/tfjs-core/dist/register_all_gradients' (bundlers) or build @xception/training.`);
}
