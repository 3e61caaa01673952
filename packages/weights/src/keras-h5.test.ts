import { mkdtemp, rm, truncate, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { WeightsFileError } from './errors.js';
import { readKerasH5 } from './keras-h5.js';
import { sameBits, saneRandomWeights } from './test-support/test-imports.js';
import { writeKerasH5 } from './test-support/write-keras-h5.js';
import { expectTypedError } from './test-support/expect-typed-error.js';

// Full-size files (~92 MB) in Keras' save_weights layout, written to the OS temp dir.
let dir: string;
let full: string;
const config = resolveXceptionConfig({ weights: null });
const values = saneRandomWeights(expectedWeights(config), 3);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'xception-h5-'));
  full = join(dir, 'xception.h5');
  await writeKerasH5(full, { config, values });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const expectError = (promise: Promise<unknown>, code: string, pattern: RegExp): Promise<WeightsFileError> =>
  expectTypedError(promise, WeightsFileError, code, pattern);

describe('readKerasH5 on a full-size Xception file in Keras layout', () => {
  it('reads every weight under our names, bit for bit', async () => {
    const reading = await readKerasH5(full);
    expect(reading.hasTop).toBe(true);
    expect(reading.classes).toBe(1000);
    expect([...reading.values.keys()].sort()).toEqual(expectedWeights(config).map((s) => s.name).sort());
    for (const [name, w] of values) expect(sameBits(reading.values.get(name)!.values, w.values), name).toBe(true);
    expect(reading.residualNames.get('conv2d_1')).toBe('block2_residual_conv');
    expect(reading.residualNames.get('batch_normalization_4')).toBe('block13_residual_bn');
  });

  it('maps each Keras version\'s residual numbering by topology order', async () => {
    const cases = [
      { conv: ['conv2d', 'conv2d_1', 'conv2d_2', 'conv2d_3'], bn: ['batch_normalization', 'batch_normalization_1', 'batch_normalization_2', 'batch_normalization_3'] },
      // Counters past 9 sort differently as text: order must come from the file, not the name.
      { conv: ['conv2d_8', 'conv2d_9', 'conv2d_10', 'conv2d_11'], bn: ['batch_normalization_8', 'batch_normalization_9', 'batch_normalization_10', 'batch_normalization_11'] },
    ];
    const notop = resolveXceptionConfig({ weights: null, includeTop: false });
    const notopValues = saneRandomWeights(expectedWeights(notop), 4);
    for (const [i, names] of cases.entries()) {
      const path = join(dir, `numbering-${i}.h5`);
      await writeKerasH5(path, { config: notop, values: notopValues, residualConvNames: names.conv, residualBnNames: names.bn, layout: i === 0 ? 'model.save' : 'save_weights' });
      const reading = await readKerasH5(path);
      expect(reading.residualNames.get(names.conv[2]!)).toBe('block4_residual_conv');
      expect(sameBits(reading.values.get('block13_residual_conv/kernel')!.values, notopValues.get('block13_residual_conv/kernel')!.values)).toBe(true);
      expect(sameBits(reading.values.get('block3_residual_bn/gamma')!.values, notopValues.get('block3_residual_bn/gamma')!.values)).toBe(true);
      expect(reading.hasTop).toBe(false);
      await expectError(readKerasH5(path, { includeTop: true }), 'ERR_WEIGHTS_NO_TOP', /numbering-\d\.h5: this file has no classifier layer 'predictions' \(a notop file\), so includeTop must be false/);
      await rm(path);
    }
  });

  it('ignores the top of a file with one when includeTop is false', async () => {
    const reading = await readKerasH5(full, { includeTop: false });
    expect(reading.values.has('predictions/kernel')).toBe(false);
    expect(reading.values.size).toBe(expectedWeights({ includeTop: false, weights: null }).length);
  });
});

describe('readKerasH5 refuses bad files with the file and layer named', () => {
  it('a missing file', async () => {
    await expectError(readKerasH5(join(dir, 'nope.h5')), 'ERR_WEIGHTS_NOT_FOUND', /nope\.h5 does not exist; check the path/);
  });

  it('a file that is not HDF5', async () => {
    const path = join(dir, 'page.h5');
    await writeFile(path, '<html><body>404 Not Found</body></html>'.repeat(40));
    const error = await expectError(readKerasH5(path), 'ERR_WEIGHTS_NOT_HDF5', /page\.h5 is not an HDF5 file \(no HDF5 signature in its 1560 bytes\)/);
    expect(error.path).toBe(path);
  });

  it('a truncated file (a cut-off download)', async () => {
    const path = join(dir, 'cut.h5');
    await copyFile(full, path);
    await truncate(path, 50_000_000);
    await expectError(readKerasH5(path), 'ERR_WEIGHTS_TRUNCATED', /cut\.h5 is truncated: it has 50000000 bytes but its HDF5 superblock declares \d{8}; download or copy the file again/);
    await truncate(path, 1000);
    await expectError(readKerasH5(path), 'ERR_WEIGHTS_TRUNCATED', /has 1000 bytes/);
    await rm(path);
  });

  it('a file whose HDF5 metadata is damaged', async () => {
    const path = join(dir, 'damaged.h5');
    await copyFile(full, path);
    const { open } = await import('node:fs/promises');
    const handle = await open(path, 'r+');
    await handle.write(Buffer.alloc(400, 0xab), 0, 400, 600); // object headers after the superblock
    await handle.close();
    // (The HDF5 C library also prints its diagnostic stack to stderr here.)
    await expectError(readKerasH5(path), 'ERR_WEIGHTS_NOT_HDF5', /damaged\.h5 could not be read as HDF5 \(the file is damaged\); download or copy it again/);
    await rm(path);
  });

  it('an HDF5 file that is not a Keras weights file', async () => {
    const { default: h5wasm } = await import('h5wasm/node');
    await h5wasm.ready;
    const path = join(dir, 'other.h5');
    const f = new h5wasm.File(path, 'w');
    f.create_dataset({ name: 'x', data: new Float32Array([1, 2, 3]) });
    f.close();
    await expectError(readKerasH5(path), 'ERR_WEIGHTS_FORMAT', /other\.h5 is HDF5 but not a Keras weights file \(neither Keras 2's layer_names attribute at the root nor Keras 3's layers\/ group\)/);
  });

  it('a missing layer', async () => {
    const path = join(dir, 'missing.h5');
    await writeKerasH5(path, { config, values, omitLayers: ['block9_sepconv2', 'block9_sepconv2_bn'] });
    const error = await expectError(readKerasH5(path), 'ERR_WEIGHTS_LAYER_MISSING', /missing\.h5: Xception's layer 'block9_sepconv2' is missing from the file/);
    expect(error.layer).toBe('block9_sepconv2');
    await rm(path);
  });

  it('a missing residual layer', async () => {
    const path = join(dir, 'residual.h5');
    await writeKerasH5(path, { config, values, omitLayers: ['block4_residual_bn'], residualBnNames: ['batch_normalization_1', 'batch_normalization_2', 'unused', 'batch_normalization_3'] });
    await expectError(readKerasH5(path), 'ERR_WEIGHTS_LAYER_MISSING', /4 unnamed residual Conv2D and 4 BatchNormalization layers but this file has 4 \(conv2d_1, conv2d_2, conv2d_3, conv2d_4\) and 3 \(batch_normalization_1, batch_normalization_2, batch_normalization_3\)/);
    await rm(path);
  });

  it('a wrong shape', async () => {
    const path = join(dir, 'shape.h5');
    await writeKerasH5(path, {
      config, values,
      mutate: (name, v, shape) => (name === 'block5_sepconv1/pointwise_kernel' ? { values: v.subarray(0, 728 * 512), shape: [1, 1, 728, 512] } : { values: v, shape }),
    });
    const error = await expectError(readKerasH5(path), 'ERR_WEIGHTS_SHAPE', /shape\.h5: weight 'block5_sepconv1\/pointwise_kernel:0' of layer 'block5_sepconv1' has shape \[1, 1, 728, 512\] but Xception expects \[1, 1, 728, 728\]/);
    expect(error.layer).toBe('block5_sepconv1');
    await rm(path);
  });

  it('a top with another number of classes', async () => {
    const ten = resolveXceptionConfig({ weights: null, classes: 10 });
    const path = join(dir, 'ten.h5');
    await writeKerasH5(path, { config: ten, values: saneRandomWeights(expectedWeights(ten), 5) });
    expect((await readKerasH5(path)).classes).toBe(10);
    const error = await expectError(readKerasH5(path, { includeTop: true, classes: 1000 }), 'ERR_WEIGHTS_SHAPE', /ten\.h5: weight 'predictions\/kernel:0' of layer 'predictions' has shape \[2048, 10\] but Xception expects \[2048, 1000\] \(a 10-class top; set classes: 10 or use includeTop: false\)/);
    expect(error.layer).toBe('predictions');
    await rm(path);
  });

  it('NaN and Inf values', async () => {
    for (const bad of [NaN, Infinity]) {
      const path = join(dir, 'nan.h5');
      await writeKerasH5(path, {
        config, values,
        mutate: (name, v, shape) => {
          if (name !== 'block3_residual_conv/kernel') return { values: v, shape };
          const copy = Float32Array.from(v);
          copy[42] = bad;
          return { values: copy, shape };
        },
      });
      const error = await expectError(readKerasH5(path), 'ERR_WEIGHTS_NON_FINITE', new RegExp(`nan\\.h5: weight 'conv2d_2/kernel:0' of layer 'conv2d_2' holds ${bad} at index 42; the file is damaged`));
      expect(error.layer).toBe('conv2d_2');
      await rm(path);
    }
  });
});
