import type { WeightSpec } from '../graph-nodes.js';
import type { FoldedWeight } from '../fused-plan.js';
import { nextSeededState, seededValue } from '../seeded-random.js';

/**
 * Seeded weights of a realistic scale for equivalence tests: variance-preserving kernels and
 * BatchNorm statistics far enough from the identity (gamma, beta, mean and variance all vary)
 * that a folding mistake shows, with a classifier whose logits spread over a few units so that
 * softmax is neither flat nor one-hot.
 */
const SCALE_LOGITS = 0.5;

export function saneRandomWeights(specs: readonly WeightSpec[], seed: number): Map<string, FoldedWeight> {
  let state = seed | 0; // seededRandom(seed)'s sequence (see fillUniform)
  const out = new Map<string, FoldedWeight>();
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const variable = spec.name.slice(spec.name.lastIndexOf('/') + 1);
    const fanIn = spec.shape.length === 2 ? spec.shape[0]! : variable === 'depthwise_kernel'
      ? spec.shape[0]! * spec.shape[1]!
      : spec.shape[0]! * spec.shape[1]! * spec.shape[2]!;
    const fill = (lo: number, hi: number): void => { state = fillUniform(values, state, lo, hi); };
    switch (variable) {
      case 'kernel':
      case 'pointwise_kernel':
      case 'depthwise_kernel': {
        // Variance 2/fanIn (He) where a relu comes before, 1/fanIn for the pointwise half of a
        // separable conv (no relu between its halves), so that activations keep their scale.
        const gain = variable === 'pointwise_kernel' ? 1 : 2;
        const limit = Math.sqrt((3 * gain) / fanIn) * (spec.layer === 'predictions' ? SCALE_LOGITS : 1);
        fill(-limit, limit);
        break;
      }
      case 'bias': fill(-0.5, 0.5); break;
      // The last BatchNorm of each middle-flow residual branch (and of block 14) is damped, as
      // in trained networks: features then average about 1, as ImageNet's do, instead of
      // growing 16-fold over eight residual additions (which would leave float32 round-off
      // near the tolerances under test).
      case 'gamma': if (/^(block([5-9]|1[0-2])_sepconv3|block14_sepconv2)_bn$/.test(spec.layer)) fill(0.1, 0.3); else fill(0.5, 1.5); break;
      case 'beta': fill(-0.5, 0.5); break;
      case 'moving_mean': fill(-0.5, 0.5); break;
      case 'moving_variance': fill(0.5, 2); break;
      default: throw new Error(`saneRandomWeights: unknown variable ${spec.name}`);
    }
    out.set(spec.name, { shape: spec.shape, values });
  }
  return out;
}

/**
 * values[i] = lo + (hi - lo) * the next value of seededRandom from `state`; returns the state
 * after. A loop over a local state: many tests make full-size weights, and a closure call per
 * value made that ~4x slower.
 */
function fillUniform(values: Float32Array, state: number, lo: number, hi: number): number {
  let s = state;
  for (let i = 0; i < values.length; i++) {
    s = nextSeededState(s);
    values[i] = lo + (hi - lo) * seededValue(s);
  }
  return s;
}

/** Seeded uniform [-1, 1) images, as preprocessInput would produce. */
export function randomImages(shape: readonly [number, number, number, number], seed: number): Float32Array {
  let state = seed | 0;
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    state = nextSeededState(state);
    values[i] = seededValue(state) * 2 - 1;
  }
  return values;
}
