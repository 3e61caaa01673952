import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countParameters, expectedWeights, resolveXceptionConfig } from '@xception/core';
import { sameBits, saneRandomWeights, seededValues, sharedPath, SKIP_NO_SHARED, useBackend } from './test-support/test-imports.js';
import { WeightsFileError } from './errors.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';
import { writeTfjsArtifacts } from './tfjs-artifacts-writer.js';
import { expectTypedError } from './test-support/expect-typed-error.js';

let dir: string;
const config = resolveXceptionConfig({ weights: null });
const values = saneRandomWeights(expectedWeights(config), 7);
// 22,910,480 float32 parameters (Keras' count_params()).
const bytes = countParameters(config) * 4;

beforeAll(async () => {
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'xception-tfjs-'));
  await writeTfjsArtifacts({ outDir: join(dir, 'plain'), config, values });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const expectError = (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<WeightsFileError> =>
  expectTypedError(promise, WeightsFileError, code, pattern);

/** A model.json beside the 'plain' shards with the manifest rewritten by `edit`. */
async function variant(name: string, edit: (json: any) => void): Promise<string> {
  const json = JSON.parse(await readFile(join(dir, 'plain', 'model.json'), 'utf8'));
  edit(json);
  const path = join(dir, 'plain', `${name}.json`);
  await writeFile(path, JSON.stringify(json));
  return path;
}

describe('tfjs artifacts written by writeTfjsArtifacts', () => {
  it('read back bit for bit, shards of at most 4 MiB, no tensor left behind', async () => {
    const before = tf.memory().numTensors;
    const reading = await readTfjsArtifacts(join(dir, 'plain'));
    expect(tf.memory().numTensors).toBe(before);
    expect(reading.format).toBe('tfjs-layers');
    expect([...reading.values.keys()].sort()).toEqual([...values.keys()].sort());
    for (const [name, w] of values) expect(sameBits(reading.values.get(name)!.values, w.values), name).toBe(true);
    const json = JSON.parse(await readFile(join(dir, 'plain', 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    expect(json.weightsManifest[0].paths).toHaveLength(22);
  });

  it('refuses a shard path that leaves the model directory', async () => {
    const path = await variant('escape', (j) => { j.weightsManifest[0].paths[3] = '../../etc/passwd'; });
    const error = await expectError(readTfjsArtifacts(path), 'ERR_WEIGHTS_SHARD_PATH', /shard path '\.\.\/\.\.\/etc\/passwd' leaves the model's directory/);
    expect(error.message).toContain(path);
    await expectError(readTfjsArtifacts(await variant('absolute', (j) => { j.weightsManifest[0].paths[0] = '/etc/passwd'; })), 'ERR_WEIGHTS_SHARD_PATH', /'\/etc\/passwd' leaves/);
    await expectError(readTfjsArtifacts(await variant('sneaky', (j) => { j.weightsManifest[0].paths[0] = 'a/../../x.bin'; })), 'ERR_WEIGHTS_SHARD_PATH', /leaves the model's directory/);
  });

  it('refuses shards of the wrong byte length, naming the shard', async () => {
    const short = join(dir, 'short');
    await writeTfjsArtifacts({ outDir: short, config, values });
    await truncate(join(short, 'group1-shard7of22.bin'), 1000);
    const error = await expectError(readTfjsArtifacts(join(short, 'model.json')), 'ERR_WEIGHTS_SHARD_SIZE', new RegExp(`hold ${bytes - 4 * 1024 * 1024 + 1000} bytes but the manifest's 236 weights need ${bytes} \\(check shard group1-shard7of22\\.bin, 1000 bytes\\)`));
    expect(error.path).toBe(join(short, 'group1-shard7of22.bin'));
  });

  it('refuses manifests that do not add up', async () => {
    // A weight claimed larger than it is: the shards no longer match the manifest.
    await expectError(readTfjsArtifacts(await variant('bigger', (j) => { j.weightsManifest[0].weights[0].shape = [3, 3, 3, 64]; })), 'ERR_WEIGHTS_SHARD_SIZE', new RegExp(`need ${bytes + 3 * 3 * 3 * 32 * 4}`));
    await expectError(readTfjsArtifacts(await variant('dup', (j) => { j.weightsManifest[0].weights[1].name = j.weightsManifest[0].weights[0].name; })), 'ERR_WEIGHTS_MANIFEST', /'block1_conv1\/kernel' is listed twice/);
    await expectError(readTfjsArtifacts(await variant('noshape', (j) => { j.weightsManifest[0].weights[2].shape = [-1]; })), 'ERR_WEIGHTS_MANIFEST', /has no valid name or shape/);
    await expectError(readTfjsArtifacts(await variant('nopaths', (j) => { j.weightsManifest[0].paths = []; })), 'ERR_WEIGHTS_MANIFEST', /lists 236 weights but no shard/);
    await expectError(readTfjsArtifacts(await variant('nomanifest', (j) => { delete j.weightsManifest; })), 'ERR_WEIGHTS_MANIFEST', /no weightsManifest/);
    await expectError(readTfjsArtifacts(await variant('quant', (j) => { j.weightsManifest[0].weights[0].quantization = { dtype: 'uint8' }; })), 'ERR_WEIGHTS_MANIFEST', /quantized as .* not float32 weights/);
    // Renamed weight: the topology has no such layer.
    await expectError(readTfjsArtifacts(await variant('foreign', (j) => { j.weightsManifest[0].weights[0].name = 'dense_9/kernel'; })), 'ERR_WEIGHTS_MANIFEST', /'dense_9\/kernel' belongs to no layer/);
    const notJson = join(dir, 'plain', 'broken.json');
    await writeFile(notJson, '{"format": "layers-model", ');
    await expectError(readTfjsArtifacts(notJson), 'ERR_WEIGHTS_MANIFEST', /model\.json is not valid JSON/);
  });

  it('refuses NaN weights, naming the layer', async () => {
    const bad = new Map(values);
    const v = Float32Array.from(values.get('block7_sepconv2_bn/moving_variance')!.values);
    v[5] = NaN;
    bad.set('block7_sepconv2_bn/moving_variance', { shape: [728], values: v });
    await writeTfjsArtifacts({ outDir: join(dir, 'nan'), config, values: bad });
    const before = tf.memory().numTensors;
    const error = await expectError(readTfjsArtifacts(join(dir, 'nan')), 'ERR_WEIGHTS_NON_FINITE', /weight 'block7_sepconv2_bn\/moving_variance' of layer 'block7_sepconv2_bn' holds NaN at index 5/);
    expect(error.layer).toBe('block7_sepconv2_bn');
    expect(tf.memory().numTensors).toBe(before); // the decoded tensors are freed on failure too
  });

  it('reads a notop model without a top, and refuses a top from it', async () => {
    const notop = resolveXceptionConfig({ weights: null, includeTop: false });
    await writeTfjsArtifacts({ outDir: join(dir, 'notop'), config: notop, values: saneRandomWeights(expectedWeights(notop), 7) });
    const reading = await readTfjsArtifacts(join(dir, 'notop'));
    expect(reading.hasTop).toBe(false);
    expect(reading.values.size).toBe(expectedWeights(notop).length);
    await expectError(readTfjsArtifacts(join(dir, 'notop'), { includeTop: true }), 'ERR_WEIGHTS_NO_TOP', /no classifier layer 'predictions'/);
    // A file with a top loads without it.
    expect((await readTfjsArtifacts(join(dir, 'plain'), { includeTop: false })).values.size).toBe(expectedWeights(notop).length);
  });
});

const sharedModel = sharedPath('reference', 'keras-xception-tfjs-model.json');
describe.skipIf(!sharedModel)(`the real converter's model.json ${sharedModel ? '' : SKIP_NO_SHARED}`, () => {
  it('maps suffixed names and auto-named residual layers through the topology', async () => {
    // The shared file is read in place; its 22 shards are not available, so seeded data is
    // laid out exactly as its manifest describes, keyed by the file's own weight names.
    const json = JSON.parse(await readFile(sharedModel!, 'utf8'));
    const manifest = json.weightsManifest[0];
    const data = new Map<string, Float32Array>();
    const parts: Float32Array[] = [];
    manifest.weights.forEach((w: { name: string; shape: number[] }, i: number) => {
      const v = seededValues(w.shape.reduce((a, b) => a * b, 1), 1000 + i);
      data.set(w.name, v);
      parts.push(v);
    });
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(p.buffer)));
    const out = join(dir, 'converter');
    await rm(out, { recursive: true, force: true });
    const { mkdir } = await import('node:fs/promises');
    await mkdir(out);
    const shardBytes = 4 * 1024 * 1024;
    expect(Math.ceil(bytes.length / shardBytes)).toBe(manifest.paths.length);
    for (const [i, p] of manifest.paths.entries()) await writeFile(join(out, p), bytes.subarray(i * shardBytes, (i + 1) * shardBytes));
    await writeFile(join(out, 'model.json'), JSON.stringify(json));

    const reading = await readTfjsArtifacts(join(out, 'model.json'));
    expect(reading.values.size).toBe(236);
    expect(reading.classes).toBe(1000);
    // Correspondences read off the shared file by hand.
    const pairs: Array<[string, string]> = [
      ['block1_conv1/kernel', 'block1_conv1_1/kernel'],
      ['block2_sepconv1/depthwise_kernel', 'block2_sepconv1_1/depthwise_kernel'],
      ['block2_residual_conv/kernel', 'conv2d_4/kernel'],
      ['block3_residual_conv/kernel', 'conv2d_5/kernel'],
      ['block13_residual_conv/kernel', 'conv2d_7/kernel'],
      ['block2_residual_bn/gamma', 'batch_normalization_4/gamma'],
      ['block13_residual_bn/moving_variance', 'batch_normalization_7/moving_variance'],
      ['predictions/kernel', 'predictions_1/kernel'],
      ['predictions/bias', 'predictions_1/bias'],
    ];
    for (const [ours, theirs] of pairs) expect(sameBits(reading.values.get(ours)!.values, data.get(theirs)!), ours).toBe(true);
    expect([...reading.residualNames]).toEqual([
      ['conv2d_4', 'block2_residual_conv'], ['conv2d_5', 'block3_residual_conv'], ['conv2d_6', 'block4_residual_conv'], ['conv2d_7', 'block13_residual_conv'],
      ['batch_normalization_4', 'block2_residual_bn'], ['batch_normalization_5', 'block3_residual_bn'], ['batch_normalization_6', 'block4_residual_bn'], ['batch_normalization_7', 'block13_residual_bn'],
    ]);
  });
});
