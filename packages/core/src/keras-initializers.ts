import type { WeightSpec } from './graph-nodes.js';
import type { FoldedWeight } from './fused-plan.js';
import { nextSeededState, seededValue } from './seeded-random.js';

/**
 * Keras' default initialisers for `weights: null`: glorot_uniform kernels (fans computed as
 * Keras does, receptive field times channels), zero biases, and the identity BatchNorm
 * (gamma 1, beta 0, moving mean 0, moving variance 1).
 */
export function kerasInitialWeights(specs: readonly WeightSpec[], seed: number): Map<string, FoldedWeight> {
  let state = seed | 0; // seededRandom(seed)'s sequence, the state in a local (see nextSeededState)
  const out = new Map<string, FoldedWeight>();
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const variable = spec.name.slice(spec.name.lastIndexOf('/') + 1);
    if (variable.endsWith('kernel')) {
      const [fanIn, fanOut] = fans(spec.shape);
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) {
        state = nextSeededState(state);
        values[i] = (seededValue(state) * 2 - 1) * limit;
      }
    } else if (variable === 'gamma' || variable === 'moving_variance') {
      values.fill(1);
    }
    out.set(spec.name, { shape: spec.shape, values });
  }
  return out;
}

function fans(shape: readonly number[]): [number, number] {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  const receptiveField = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return [shape[shape.length - 2]! * receptiveField, shape[shape.length - 1]! * receptiveField];
}
