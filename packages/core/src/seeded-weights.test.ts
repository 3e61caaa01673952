/**
 * The exact values of the hot loops that make and fold weights (seeded initialisers, the
 * BatchNorm fold, the finite check), against references written here independently: mulberry32
 * in BigInt arithmetic, and the fold as its formula reads, one value at a time in float64.
 */
import { describe, expect, test } from 'vitest';
import { checkWeightValues, compileFusedPlan, describeXception, expectedWeights, firstNonFinite, kerasInitialWeights, resolveXceptionConfig, seededRandom, weightSpecsOf, XceptionWeightsError } from './index.js';
import { randomImages, saneRandomWeights } from './testing/index.js';

/** mulberry32 as published (Tommy Ettinger), in unsigned BigInt arithmetic mod 2^32. */
function referenceMulberry32(seed: number): () => number {
  const M = 2n ** 32n;
  const imul = (a: bigint, b: bigint): bigint => (a * b) % M;
  let state = BigInt(seed >>> 0);
  return () => {
    state = (state + 0x6d2b79f5n) % M;
    let t = state;
    t = imul(t ^ (t >> 15n), t | 1n);
    t ^= (t + imul(t ^ (t >> 7n), t | 61n)) % M;
    return Number(t ^ (t >> 14n)) / 2 ** 32;
  };
}

const config = resolveXceptionConfig({ weights: null, inputShape: [71, 71, 3] });
const specs = expectedWeights(config);

describe('seeded values', () => {
  test('seededRandom gives mulberry32\'s sequence (seeds 0, 42 and one above 2^31)', () => {
    for (const seed of [0, 42, 0xdeadbeef]) {
      const ours = seededRandom(seed);
      const reference = referenceMulberry32(seed);
      for (let i = 0; i < 1000; i++) expect(ours()).toBe(reference());
    }
  });

  test('kerasInitialWeights: glorot-uniform kernels from one seeded sequence in spec order, zero biases, identity BatchNorm', () => {
    const seed = 7;
    const firstLayers = specs.slice(0, 16); // block1 and block2's first separable conv: every kind of variable, ~40k values
    const init = kerasInitialWeights(firstLayers, seed);
    const random = referenceMulberry32(seed);
    for (const spec of firstLayers) {
      const values = init.get(spec.name)!.values;
      const variable = spec.name.split('/').pop()!;
      if (!variable.endsWith('kernel')) {
        expect([...new Set(values)]).toEqual([variable === 'gamma' || variable === 'moving_variance' ? 1 : 0]);
        continue;
      }
      const receptive = spec.shape.length === 2 ? 1 : spec.shape.slice(0, -2).reduce((a, b) => a * b, 1);
      const limit = Math.sqrt(6 / ((spec.shape.at(-2)! + spec.shape.at(-1)!) * receptive));
      const expected = new Float32Array(values.length);
      for (let i = 0; i < expected.length; i++) expected[i] = (random() * 2 - 1) * limit;
      expect(values.every((v, i) => v === expected[i]), spec.name).toBe(true);
    }
  });

  test('saneRandomWeights and randomImages draw one seeded sequence, value after value', () => {
    const sane = saneRandomWeights(specs.slice(0, 3), 3); // block1_conv1/kernel, then its BatchNorm's gamma and beta
    const random = referenceMulberry32(3);
    const kernel = specs[0]!;
    const limit = Math.sqrt(6 / (kernel.shape[0]! * kernel.shape[1]! * kernel.shape[2]!));
    const expected = (size: number, lo: number, hi: number): Float32Array => Float32Array.from({ length: size }, () => lo + (hi - lo) * random());
    expect(sane.get(kernel.name)!.values).toEqual(expected(sane.get(kernel.name)!.values.length, -limit, limit));
    expect(sane.get(specs[1]!.name)!.values).toEqual(expected(32, 0.5, 1.5));
    expect(sane.get(specs[2]!.name)!.values).toEqual(expected(32, -0.5, 0.5));
    const images = referenceMulberry32(9);
    expect(randomImages([1, 4, 4, 3], 9)).toEqual(Float32Array.from({ length: 48 }, () => images() * 2 - 1));
  });
});

const graph = describeXception(config);
const weights = saneRandomWeights(weightSpecsOf(graph), 11);

describe('BatchNorm folding', () => {
  const plan = compileFusedPlan(graph, weights);

  test.each(['block1_conv1', 'block4_sepconv2', 'block14_sepconv2'])('%s: W * gamma / sqrt(var + eps) per output channel, bias beta - mean * that', (layer) => {
    const step = plan.steps.find((s) => s.kind === 'conv2d' && s.layers[0] === layer);
    if (step?.kind !== 'conv2d') throw new Error(`no conv2d step for ${layer}`);
    const kernel = weights.get(`${layer}/${layer.includes('sepconv') ? 'pointwise_kernel' : 'kernel'}`)!;
    const bn = (v: string): Float32Array => weights.get(`${layer}_bn/${v}`)!.values;
    const outChannels = kernel.shape.at(-1)!;
    const scales = Array.from({ length: outChannels }, (_, o) => bn('gamma')[o]! / Math.sqrt(bn('moving_variance')[o]! + 1e-3));
    const scale = (o: number): number => scales[o]!;
    // Index by coordinates, not by the flat run the code walks: [h][w][i][o] in HWIO.
    const [kh, kw, ci] = kernel.shape as [number, number, number, number];
    let mismatches = 0;
    for (let h = 0; h < kh; h++) for (let w = 0; w < kw; w++) for (let i = 0; i < ci; i++) for (let o = 0; o < outChannels; o++) {
      const at = ((h * kw + w) * ci + i) * outChannels + o;
      if (step.kernel.values[at] !== Math.fround(kernel.values[at]! * scale(o))) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(step.bias!.values).toEqual(Float32Array.from({ length: outChannels }, (_, o) => bn('beta')[o]! - bn('moving_mean')[o]! * scale(o)));
    expect(step.kernel.values).not.toBe(kernel.values); // folded into a copy: the caller's weights are untouched
  });
});

describe('finite check', () => {
  test('firstNonFinite finds NaN and both infinities, and passes extreme finite values', () => {
    expect(firstNonFinite(new Float32Array([0, -0, 3.4e38, -3.4e38, 1e-45]))).toBe(-1);
    for (const bad of [NaN, Infinity, -Infinity]) expect(firstNonFinite(new Float32Array([1, 2, bad, bad]))).toBe(2);
  });

  test('checkWeightValues names a weight holding an infinity', () => {
    const damaged = new Map(weights);
    const beta = weights.get('block5_sepconv1_bn/beta')!;
    damaged.set('block5_sepconv1_bn/beta', { shape: beta.shape, values: beta.values.map((v, i) => (i === 7 ? -Infinity : v)) });
    expect(() => checkWeightValues(graph, weights)).not.toThrow();
    expect(() => checkWeightValues(graph, damaged)).toThrow(XceptionWeightsError);
    expect(() => checkWeightValues(graph, damaged)).toThrow(/with NaN or Inf values \(block5_sepconv1_bn\/beta\)/);
  });
});
