import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, test } from 'vitest';
import { compileFusedPlan, createXceptionFromValues, describeXception, expectedWeights, resolveXceptionConfig, type CreateXceptionOptions } from '@xception/core';
import { useBackend } from '@xception/test-kit';
import { randomImages, saneRandomWeights } from '@xception/core/testing';
import { decodeOnnxModel, exportXceptionOnnx, ONNX_IO } from './index.js';

/** One ORT session per exported file, two threads, as the worker runs it. */
async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 2, interOpNumThreads: 1 });
}

async function runOnnx(s: ort.InferenceSession, x: Float32Array, shape: [number, number, number, 3]) {
  const r = await s.run({ [ONNX_IO.input]: new ort.Tensor('float32', x, shape) });
  return { output: r[ONNX_IO.output]!, features: r[ONNX_IO.features]! };
}

/** The tfjs core on wasm: output and pooled features for the same images. */
function runTfjs(options: CreateXceptionOptions, weights: ReturnType<typeof saneRandomWeights>, x: Float32Array, shape: [number, number, number, 3]) {
  const model = createXceptionFromValues(options, weights);
  try {
    return tf.tidy(() => {
      const { output, features } = model.predictWithFeatures(tf.tensor4d(x, shape));
      return { output: { data: output.dataSync() as Float32Array, shape: output.shape }, features: { data: features.dataSync() as Float32Array, shape: features.shape } };
    });
  } finally {
    model.dispose();
  }
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

beforeAll(async () => {
  await useBackend('wasm');
});

/** Xception with its top at 299x299, seeded, exported once for the tests that read it (an export costs a second or more). */
let withTop: { options: CreateXceptionOptions; weights: ReturnType<typeof saneRandomWeights>; exported: ReturnType<typeof exportXceptionOnnx> } | null = null;
function exportedWithTop(): NonNullable<typeof withTop> {
  if (!withTop) {
    const options: CreateXceptionOptions = { includeTop: true, weights: null };
    const weights = saneRandomWeights(expectedWeights(resolveXceptionConfig(options)), 7);
    withTop = { options, weights, exported: exportXceptionOnnx(options, weights) };
  }
  return withTop;
}

describe('ONNX export against the tfjs core (same weights, wasm backend)', () => {
  test('with a top at 299x299: predictions and pooled features within 1e-4', async () => {
    const { options, weights, exported } = exportedWithTop();
    expect(exported.outputShape).toEqual([null, 1000]);
    const shape: [number, number, number, 3] = [1, 299, 299, 3]; // batches: the non-square test below
    const x = randomImages(shape, 11);
    const s = await session(exported.bytes);
    const onnx = await runOnnx(s, x, shape);
    const ref = runTfjs(options, weights, x, shape);
    expect(onnx.output.dims).toEqual([1, 1000]);
    expect(onnx.features.dims).toEqual([1, 2048]);
    const dOut = maxAbs(onnx.output.data as Float32Array, ref.output.data);
    const dFeat = maxAbs(onnx.features.data as Float32Array, ref.features.data);
    const featScale = Math.max(...Array.from(ref.features.data, Math.abs));
    console.log(`ONNX vs tfjs (top, 299x299): predictions max abs diff ${dOut.toExponential(2)}, pooled features ${dFeat.toExponential(2)} (features up to ${featScale.toFixed(2)})`);
    expect(dOut).toBeLessThanOrEqual(1e-4);
    expect(dFeat).toBeLessThanOrEqual(1e-4);
    await s.release();
  });

  test('no top, non-square 150x200, batch 2: 4D features (NHWC) and pooled features within 1e-4', async () => {
    const options: CreateXceptionOptions = { includeTop: false, pooling: null, inputShape: [150, 200, 3], weights: null };
    const weights = saneRandomWeights(expectedWeights(resolveXceptionConfig(options)), 8);
    const exported = exportXceptionOnnx(options, weights);
    expect(exported.outputShape).toEqual([null, 5, 7, 2048]);
    const shape: [number, number, number, 3] = [2, 150, 200, 3];
    const x = randomImages(shape, 12);
    const s = await session(exported.bytes);
    const onnx = await runOnnx(s, x, shape);
    const ref = runTfjs(options, weights, x, shape);
    expect(onnx.output.dims).toEqual(ref.output.shape);
    expect(onnx.output.dims).toEqual([2, 5, 7, 2048]);
    const dOut = maxAbs(onnx.output.data as Float32Array, ref.output.data);
    const dFeat = maxAbs(onnx.features.data as Float32Array, ref.features.data);
    console.log(`ONNX vs tfjs (no top, 150x200, batch 2): 4D features max abs diff ${dOut.toExponential(2)}, pooled ${dFeat.toExponential(2)}`);
    expect(dOut).toBeLessThanOrEqual(1e-4);
    expect(dFeat).toBeLessThanOrEqual(1e-4);
    await s.release();
  });

  test('one file without a top serves batch 1 and 3 and any size (dynamic batch, height, width)', async () => {
    const options: CreateXceptionOptions = { includeTop: false, pooling: 'max', weights: null };
    const weights = saneRandomWeights(expectedWeights(resolveXceptionConfig(options)), 9);
    const exported = exportXceptionOnnx(options, weights);
    const summary = decodeOnnxModel(exported.bytes);
    expect(summary.inputs).toEqual([{ name: 'images', dims: ['N', 'height', 'width', 3] }]);
    expect(summary.outputs).toEqual([{ name: 'output', dims: ['N', 2048] }, { name: 'features', dims: ['N', 2048] }]);
    const s = await session(exported.bytes);
    const model = createXceptionFromValues(options, weights);
    const diffs: string[] = [];
    for (const shape of [[1, 71, 71, 3], [3, 80, 96, 3], [1, 101, 73, 3]] as Array<[number, number, number, 3]>) {
      const x = randomImages(shape, shape[0] * 1000 + shape[1]);
      const onnx = await runOnnx(s, x, shape);
      expect(onnx.output.dims).toEqual([shape[0], 2048]);
      const ref = tf.tidy(() => model.predict(tf.tensor4d(x, shape)).dataSync() as Float32Array);
      const d = maxAbs(onnx.output.data as Float32Array, ref);
      diffs.push(`${shape.join('x')}: ${d.toExponential(2)}`);
      expect(d).toBeLessThanOrEqual(1e-4);
      expect(maxAbs(onnx.features.data as Float32Array, onnx.output.data as Float32Array)).toBe(0);
    }
    console.log(`ONNX vs tfjs (no top, max pooling, one file): ${diffs.join('; ')}`);
    model.dispose();
    await s.release();
  });
});

describe('the exported graph', () => {
  test('opset 13, one Conv per folded conv step, no BatchNormalization, Keras\' parameter count', () => {
    const { options, weights, exported } = exportedWithTop();
    const graph = describeXception(resolveXceptionConfig(options));
    const plan = compileFusedPlan(graph, weights);
    const summary = decodeOnnxModel(exported.bytes);
    expect(summary.opset).toBeGreaterThanOrEqual(13);
    expect(summary.irVersion).toBeGreaterThanOrEqual(7);
    const count = (op: string) => summary.ops.filter((o) => o === op).length;
    const convSteps = plan.steps.filter((s) => s.kind === 'conv2d' || s.kind === 'depthwiseConv2d').length;
    expect(count('Conv')).toBe(convSteps);
    expect(count('Conv')).toBe(2 + 4 + 34 * 2); // block1 (2) + 4 residual 1x1 + 34 separable (depthwise + pointwise)
    expect(count('BatchNormalization')).toBe(0);
    expect(graph.nodes.filter((n) => n.op === 'batchNorm').length).toBeGreaterThan(0);
    expect(count('Gemm')).toBe(1);
    expect(count('Softmax')).toBe(1);
    // Folding removes the BatchNorm parameters (4 per channel) but adds a bias per conv output channel.
    const bnParams = graph.nodes.filter((n) => n.op === 'batchNorm').reduce((s, n) => s + 4 * n.channels, 0);
    const bnChannels = bnParams / 4;
    expect(summary.parameters).toBe(22_910_480 - bnParams + bnChannels);
    expect(summary.inputs).toEqual([{ name: 'images', dims: ['N', 299, 299, 3] }]);
    expect(summary.outputs).toEqual([{ name: 'output', dims: ['N', 1000] }, { name: 'features', dims: ['N', 2048] }]);
  });
});
