import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createXceptionFromValues, expectedWeights, resolveXceptionConfig } from '@xception/core';
import { startStaticServer, type StaticServer } from '@xception/test-kit';
import { randomImages, saneRandomWeights } from '@xception/core/testing';
import { writeKerasArchive } from '@xception/weights';
import { runCli, type CliRun } from '@xception/test-kit/worker-cli';

/**
 * `weights convert --to web` through the built CLI, on a seeded 5-class 71x71 .keras: the folder
 * is served by a plain static server on 127.0.0.1 and read by tfjs-layers' own loadLayersModel
 * (not our reader) and by onnxruntime, and both agree with the float32 weights the test wrote.
 */
const dir = mkdtempSync(join(tmpdir(), 'xception-web-cli-'));
const out = join(dir, 'web');
const config = resolveXceptionConfig({ weights: null, classes: 5, inputShape: [71, 71, 3] });
const values = saneRandomWeights(expectedWeights(config), 11);
let run: CliRun;
let server: StaticServer;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  const input = join(dir, 'five.keras');
  await writeKerasArchive(input, { config, values });
  run = await runCli(['weights', 'convert', input, out, '--to', 'web', '--quantize', 'float16']);
  server = await startStaticServer({ root: out });
}, 180_000);
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('xception weights convert --to web', () => {
  test('writes tfjs artifacts (float16), xception.onnx and a manifest whose sizes and hashes match the files', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/wrote .*model\.json and \d+ shards \(\d+\.\d MB, float16\); largest weight error \d\.\d+e-\d+/);
    expect(run.stderr).toMatch(/largest difference from the tfjs core on a 71x71 test image: output \S+, pooled features \S+/);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      format: 'xception-web', version: 1,
      model: { includeTop: true, classes: 5, inputShape: [71, 71, 3], classifierActivation: 'softmax' },
      tfjs: { modelJson: 'model.json', quantize: 'float16' }, onnx: { file: 'xception.onnx' },
    });
    const onDisk = readdirSync(out).filter((f) => f !== 'manifest.json').sort();
    expect(manifest.files.map((f: { path: string }) => f.path).sort()).toEqual(onDisk);
    for (const f of manifest.files as Array<{ path: string; bytes: number; sha256: string }>) {
      const bytes = readFileSync(join(out, f.path));
      expect({ path: f.path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual(f);
    }
  });

  test('tfjs-layers loads the served model.json and onnxruntime the .onnx; both predict what the written weights predict', async () => {
    const shape = [2, 71, 71, 3] as [number, number, number, number];
    const pixels = randomImages(shape, 5);
    const reference = createXceptionFromValues(config, values);
    const expected = tf.tidy(() => reference.predict(tf.tensor4d(pixels, shape)).dataSync() as Float32Array);
    reference.dispose();

    const layers = await tfl.loadLayersModel(`${server.url}/model.json`);
    const fromTfjs = tf.tidy(() => (layers.predict(tf.tensor4d(pixels, shape)) as tf.Tensor).dataSync() as Float32Array);
    layers.dispose();
    const session = await ort.InferenceSession.create(join(out, 'xception.onnx'));
    const fromOnnx = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', pixels, shape) }))[session.outputNames[0]!]!.data as Float32Array;
    await session.release();

    const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    const argmax = (a: Float32Array, row: number): number => { const r = Array.from(a.subarray(row * 5, row * 5 + 5)); return r.indexOf(Math.max(...r)); };
    console.log(`--to web, 2x71x71, 5 classes: tfjs-layers (float16 weights) vs float32 weights ${maxDiff(fromTfjs, expected).toExponential(2)}, onnxruntime vs float32 weights ${maxDiff(fromOnnx, expected).toExponential(2)} (probabilities up to ${Math.max(...expected).toFixed(2)})`);
    expect(fromTfjs.length).toBe(10);
    expect(maxDiff(fromOnnx, expected)).toBeLessThan(1e-4);
    expect(maxDiff(fromTfjs, expected)).toBeLessThan(1e-2);
    expect([argmax(fromTfjs, 0), argmax(fromTfjs, 1)]).toEqual([argmax(expected, 0), argmax(expected, 1)]);
    expect(server.hits).toContain('/model.json');
  });

  test("a model.json converts at the input size its InputLayer says (71x71 here), not Keras' default 299", async () => {
    const again = join(dir, 'from-model-json');
    const converted = await runCli(['weights', 'convert', join(out, 'model.json'), again, '--to', 'onnx', '--no-check']);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toMatch(/input \S+ \[\S+, 71, 71, 3\]/);
    const shape = [1, 71, 71, 3] as [number, number, number, number];
    const pixels = randomImages(shape, 6);
    const reference = createXceptionFromValues(config, values);
    const expected = tf.tidy(() => reference.predict(tf.tensor4d(pixels, shape)).dataSync() as Float32Array);
    reference.dispose();
    const session = await ort.InferenceSession.create(join(again, 'xception.onnx'));
    const got = (await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', pixels, shape) }))[session.outputNames[0]!]!.data as Float32Array;
    await session.release();
    // The model.json holds float16 weights: within float16's error of the float32 ones.
    expect(got.reduce((m, v, i) => Math.max(m, Math.abs(v - expected[i]!)), 0)).toBeLessThan(1e-2);
  });
});
