import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createXceptionFromValues, expectedWeights, resolveXceptionConfig, type XceptionModel } from '@xception/core';
import { convertWeights } from './convert-weights.js';
import { IMAGENET_REGISTRY, type WeightsRegistry } from './imagenet-registry.js';
import { loadXception } from './load-xception.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
import { maxAbsDiff, randomImages, saneRandomWeights, startStaticServer, useBackend, type StaticServer } from './test-support/test-imports.js';
import { writeKerasH5 } from './test-support/write-keras-h5.js';

// One set of seeded weights, handed over three ways (a map, a Keras-layout .h5, tfjs artifacts
// converted from that .h5), must give the same model. Full size, wasm backend, one image (the
// batch is not what this file tests: packages/core checks batches against single images).
const config = resolveXceptionConfig({ weights: null });
const values = saneRandomWeights(expectedWeights(config), 11);
let dir: string;
let h5: string;
let images: tf.Tensor4D;
let reference: XceptionModel;
let expected: tf.Tensor;
let float32Report: Awaited<ReturnType<typeof convertWeights>>;

beforeAll(async () => {
  await useBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'xception-equiv-'));
  h5 = join(dir, 'seeded.h5');
  await writeKerasH5(h5, { config, values });
  images = tf.tensor4d(randomImages([1, 299, 299, 3], 5), [1, 299, 299, 3]);
  reference = createXceptionFromValues(config, values);
  expected = reference.predict(images);
  float32Report = await convertWeights({ input: h5, outDir: join(dir, 'float32') });
});
afterAll(async () => {
  tf.dispose([images, expected]);
  reference?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function outputsOf(weights: string, extra: Record<string, unknown> = {}): Promise<tf.Tensor> {
  const model = await loadXception({ weights, ...extra });
  try {
    return model.predict(images);
  } finally {
    model.dispose();
  }
}

describe('the same weights as a map, a Keras .h5 and tfjs artifacts', () => {
  it('give identical outputs, and loading leaks no tensor', async () => {
    const before = tf.memory().numTensors;
    const fromH5 = await outputsOf(h5);
    const report = float32Report;
    expect(report).toMatchObject({ quantize: null, maxAbsError: 0, includeTop: true, classes: 1000 });
    expect(report.shards).toHaveLength(22);
    const fromTfjs = await outputsOf(join(dir, 'float32'));
    const diffs = { h5: maxAbsDiff(fromH5, expected), tfjs: maxAbsDiff(fromTfjs, expected) };
    console.info(`equivalence (max abs diff of softmax outputs, one image at 299): ${JSON.stringify(diffs)}`);
    expect(diffs.h5).toBeLessThanOrEqual(1e-6);
    expect(diffs.tfjs).toBeLessThanOrEqual(1e-6);
    tf.dispose([fromH5, fromTfjs]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('quantized artifacts stay within the measured error, which tfjs\' own decoding confirms', async () => {
    const figures: Record<string, unknown> = {};
    for (const quantize of ['float16', 'uint8'] as const) {
      const out = join(dir, quantize);
      const report = await convertWeights({ input: h5, outDir: out, quantize });
      // Independent measure: what tf.io.decodeWeights gives back, against the originals.
      const decoded = await readTfjsArtifacts(out);
      let worst = 0;
      for (const [name, w] of values) {
        const back = decoded.values.get(name)!.values;
        for (let i = 0; i < back.length; i++) worst = Math.max(worst, Math.abs(back[i]! - w.values[i]!));
      }
      expect(report.maxAbsError).toBeGreaterThan(0);
      expect(Math.abs(report.maxAbsError - worst)).toBeLessThanOrEqual(1e-7);
      const outputs = await outputsOf(out);
      const outputDiff = maxAbsDiff(outputs, expected);
      outputs.dispose();
      figures[quantize] = { maxAbsWeightError: report.maxAbsError, worstWeight: report.maxAbsErrorWeight, weightBytes: report.weightBytes, maxAbsOutputDiff: outputDiff };
      // float16 keeps 11 significant bits; uint8 has 256 levels per tensor.
      expect(outputDiff).toBeLessThan(quantize === 'float16' ? 1e-3 : 0.1);
    }
    console.info(`quantization figures: ${JSON.stringify(figures)}`);
    expect((figures.float16 as { weightBytes: number }).weightBytes).toBe(expectedWeights(config).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0) * 2);
  });

  it('the artifacts are a real layers model: tf.loadLayersModel runs them', async () => {
    const modelJson = JSON.parse(await readFile(join(dir, 'float32', 'model.json'), 'utf8'));
    const shards = await Promise.all(modelJson.weightsManifest[0].paths.map((p: string) => readFile(join(dir, 'float32', p))));
    const weightData = tf.io.concatenateArrayBuffers(shards.map((b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer));
    const model = await tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: modelJson.modelTopology, weightSpecs: modelJson.weightsManifest[0].weights, weightData }));
    const theirs = model.predict(images) as tf.Tensor;
    const diff = maxAbsDiff(theirs, expected);
    console.info(`tf.loadLayersModel vs our fused model: max abs diff ${diff}`);
    // tfjs-layers runs BatchNorm unfolded: float32 rounding differs, not the model.
    expect(diff).toBeLessThan(1e-4);
    expect(model.layers.map((l) => l.name)).toContain('block2_residual_conv');
    theirs.dispose();
    model.dispose();
  });
});

describe("weights: 'imagenet' end to end, from a local server", () => {
  let server: StaticServer;
  let registry: WeightsRegistry;
  beforeAll(async () => {
    const bytes = await readFile(h5);
    server = await startStaticServer({ files: { '/xception.h5': { body: bytes, type: 'application/octet-stream' } } });
    const md5 = createHash('md5').update(bytes).digest('hex');
    registry = {
      version: 1,
      files: IMAGENET_REGISTRY.files.map((f) => ({ ...f, urls: [`${server.url}/${f.includeTop ? 'xception.h5' : 'notop.h5'}`], ...(f.includeTop ? { bytes: bytes.length, md5 } : {}) })),
    };
  });
  afterAll(async () => server?.close());

  it('downloads into the cache, verifies and loads', async () => {
    const cacheDir = join(dir, 'cache');
    const outputs = await outputsOf('imagenet', { cacheDir, registry, env: {} });
    expect(maxAbsDiff(outputs, expected)).toBeLessThanOrEqual(1e-6);
    outputs.dispose();
    const error = await loadXception({ includeTop: false, cacheDir, registry, env: {} }).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(new RegExp(`HTTP 404.*copy it to ${join(cacheDir, 'xception_weights_tf_dim_ordering_tf_kernels_notop.h5').replace(/[.]/g, '\\.')}`));
  });

  it("applies Keras' rules before downloading anything", async () => {
    const hits = server.hits.length;
    await expect(loadXception({ classes: 10, cacheDir: join(dir, 'cache2'), registry })).rejects.toThrow(/With weights 'imagenet' and includeTop true, classes must be 1000/);
    expect(server.hits.length).toBe(hits);
  });
});
