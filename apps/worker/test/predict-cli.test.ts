import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, expect, test } from 'vitest';
import { createXceptionFromValues } from '@xception/core';
import { maxAbsDiff, useBackend } from '@xception/test-kit';
import { randomImages } from '@xception/core/testing';
import { readNpy, writeNpy } from '@xception/batch';
import { runCli } from '@xception/test-kit/worker-cli';

const dir = mkdtempSync(join(tmpdir(), 'xception-predict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('predict round-trips a .npy and matches the library\'s output', async () => {
  const shape: [number, number, number, number] = [2, 80, 96, 3];
  const input = join(dir, 'x.npy');
  await writeNpy(input, { data: randomImages(shape, 3), shape });
  const output = join(dir, 'y.npy');
  const features = join(dir, 'f.npy');
  const run = await runCli(['predict', '--weights', 'none', '--no-top', '--input', input, '--output', output, '--features', features, '--engine', 'wasm']);
  expect(run.code, run.stderr).toBe(0);
  // The wasm pool uses the cores as classify's does: a worker thread per CPU.
  const cpus = availableParallelism();
  expect(run.stderr).toContain(`wasm, ${cpus} worker thread${cpus === 1 ? '' : 's'}`);

  await useBackend('wasm');
  const model = createXceptionFromValues({ includeTop: false, inputShape: [80, 96, 3], weights: null }, null);
  const x = tf.tensor4d(randomImages(shape, 3), shape);
  const { output: want, features: wantFeatures } = model.predictWithFeatures(x);
  const got = await readNpy(output);
  const gotFeatures = await readNpy(features);
  expect(got.shape).toEqual(want.shape);
  expect(gotFeatures.shape).toEqual([2, 2048]);
  const [a, b] = [tf.tensor(got.data, got.shape), tf.tensor(gotFeatures.data, gotFeatures.shape)];
  expect(maxAbsDiff(a, want)).toBe(0);
  expect(maxAbsDiff(b, wantFeatures)).toBe(0);
  // And NumPy, the other side of the round trip, reads the output as it should.
  try {
    const numpy = execFileSync('python3', ['-c', `import numpy as np; a = np.load(${JSON.stringify(output)}); print(a.dtype, a.shape)`], { encoding: 'utf8' });
    expect(numpy.trim()).toBe(`float32 (${want.shape.join(', ')})`);
  } catch (error) {
    if (!String(error).includes('No module named')) throw error;
  }
  tf.dispose([x, want, wantFeatures, a, b]);
  model.dispose();
});

test('a wrong tensor shape is a usage error that says what predict expects', async () => {
  const input = join(dir, 'bad.npy');
  await writeNpy(input, { data: new Float32Array(12), shape: [2, 2, 3] });
  const run = await runCli(['predict', '--weights', 'none', '--input', input, '--output', join(dir, 'z.npy')]);
  expect(run.code).toBe(2);
  expect(run.stderr).toBe(`xception: ${input} has shape (2, 2, 3); predict expects float32 NHWC images (N, height, width, 3) preprocessed to [-1, 1].\n`);
});

test('predict uses the cores like classify: onnxruntime gets one intra-op thread per CPU, and agrees with the library', async () => {
  const shape: [number, number, number, number] = [3, 71, 71, 3];
  const input = join(dir, 'x3.npy');
  await writeNpy(input, { data: randomImages(shape, 4), shape });
  const onnxOut = join(dir, 'onnx.npy');
  const onnx = await runCli(['predict', '--weights', 'none', '--input', input, '--output', onnxOut, '--engine', 'onnx']);
  expect(onnx.code, onnx.stderr).toBe(0);
  const cpus = availableParallelism();
  expect(onnx.stderr).toMatch(new RegExp(`cpu, ${cpus} threads?; model (exported, cached at |cached )\\S+\\.onnx\\)`));
  // The library on tfjs (the engine the wasm pool runs), in this process rather than another CLI start.
  await useBackend('wasm');
  const model = createXceptionFromValues({ inputShape: [71, 71, 3], weights: null }, null);
  const want = tf.tidy(() => model.predict(tf.tensor4d(randomImages(shape, 4), shape)).dataSync() as Float32Array);
  model.dispose();
  const a = await readNpy(onnxOut);
  expect(a.shape).toEqual([3, 1000]);
  expect(want.length).toBe(3 * 1000);
  let diff = 0;
  a.data.forEach((v, i) => { diff = Math.max(diff, Math.abs(v - want[i]!)); });
  expect(diff).toBeLessThanOrEqual(1e-4);
});
