import * as tf from '@tensorflow/tfjs-core';

/**
 * In Node, tfjs' cpu backend prints a banner on its first tensor asking to install tfjs-node.
 * Our Node front doors use the cpu backend on purpose for small work (decoding a model.json's
 * weights, training a head on cached features) and choose onnxruntime or tfjs-node for
 * inference themselves (engine 'auto'), so the advice misleads the people reading our output.
 * This marks the registered cpu backend as already used. It does nothing when the cpu backend is
 * not registered, or when a later tfjs renames the field (the banner then simply shows again).
 */
export function silenceCpuBackendBanner(): void {
  if (!tf.engine().registryFactory['cpu']) return;
  const backend = tf.findBackend('cpu') as { firstUse?: unknown } | null;
  if (backend && typeof backend.firstUse === 'boolean') backend.firstUse = false;
}
