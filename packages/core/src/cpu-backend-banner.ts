import * as tf from '@tensorflow/tfjs-core';

/**
 * In Node, tfjs' cpu backend prints a banner on its first tensor asking to install tfjs-node.
 * Our Node front doors use the cpu backend on purpose for small work (decoding a model.json's
 * weights, training a head on cached features) and choose onnxruntime or tfjs-node for
 * inference themselves (engine 'auto'), so the advice misleads the people reading our output.
 * This marks the cpu backend that tfjs will use as already used. tfjs creates a backend anew
 * when it first picks one, so this waits for tf.ready() (the pick) before marking it. It does
 * nothing when the cpu backend is not registered, or when a later tfjs renames the field (the
 * banner then simply shows again).
 */
export async function silenceCpuBackendBanner(): Promise<void> {
  await tf.ready();
  const backend = (tf.engine().registry as Record<string, { firstUse?: unknown } | undefined>)['cpu'];
  if (backend && typeof backend.firstUse === 'boolean') backend.firstUse = false;
}
