import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { openClassifierWeights, readClassifierWeights, weightsModelId } from './classifier-weights.js';
import { WeightsFileError } from './errors.js';
import { writeKeras3Weights, writeKerasArchive } from './keras3-writer.js';
import { expectTypedError } from './test-support/expect-typed-error.js';
import { saneRandomWeights, sameBits } from './test-support/test-imports.js';
import { writeKerasH5 } from './test-support/write-keras-h5.js';

// One 3-class model in three files: a .keras archive, a Keras 2 .h5 (save_weights layout) and,
// without its top, a Keras 3 .weights.h5.
const dir = mkdtempSync(join(tmpdir(), 'xception-classifier-weights-'));
const config = resolveXceptionConfig({ weights: null, classes: 3, inputShape: [71, 71, 3], classifierActivation: 'sigmoid' });
const values = saneRandomWeights(expectedWeights(config), 8);
const archive = join(dir, 'three.keras');
const h5 = join(dir, 'three.h5');
const notop = join(dir, 'notop.weights.h5');
const sha256Of = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  await writeKerasArchive(archive, { config, values, classNames: ['cat', 'dog', 'fox'] });
  await writeKerasH5(h5, { config, values });
  const notopConfig = resolveXceptionConfig({ weights: null, includeTop: false });
  await writeKeras3Weights(notop, { config: notopConfig, values: saneRandomWeights(expectedWeights(notopConfig), 8) });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openClassifierWeights', () => {
  it.each([
    ['a .keras archive', archive, { classes: 3, classNames: ['cat', 'dog', 'fox'], inputSize: 71, classifierActivation: 'sigmoid' }],
    ['a Keras .h5', h5, { classes: 3, classNames: null, inputSize: null, classifierActivation: 'softmax' }],
  ])('%s: what readClassifierWeights says, the values left in the file until decode(), keyed by its SHA-256', async (_, path, about) => {
    const opened = await openClassifierWeights(path);
    const { values: read, ...eager } = await readClassifierWeights(path);
    expect(eager).toEqual(about);
    expect(opened).toMatchObject(about);
    const sha256 = sha256Of(path);
    expect(opened.sha256).toBe(sha256);
    if (opened.weights instanceof Map) throw new Error('decoded at once');
    expect(opened.weights.id).toBe(`sha256:${sha256}, top`);
    const decoded = await opened.weights.decode();
    expect(await opened.weights.decode()).toBe(decoded); // once
    expect([...decoded.keys()].sort()).toEqual([...read.keys()].sort());
    for (const [name, value] of read) expect(sameBits(decoded.get(name)!.values, value.values), name).toBe(true);
    // The model id a library records hashes the same file the same way (hashed once per process).
    expect(await weightsModelId(path)).toBe(`file:${path.split('/').pop()}#${sha256.slice(0, 12)}`);
  });

  it('a file without the top fails as readClassifierWeights fails, at once', async () => {
    await expectTypedError(openClassifierWeights(notop), WeightsFileError, 'ERR_WEIGHTS_NO_TOP', /no classifier layer 'predictions'/);
  });

  it('decode() refuses a file rewritten since it was opened (its id would name other bytes)', async () => {
    const copy = join(dir, 'rewritten.h5');
    copyFileSync(h5, copy);
    const opened = await openClassifierWeights(copy);
    writeFileSync(copy, readFileSync(archive));
    if (opened.weights instanceof Map) throw new Error('decoded at once');
    await expectTypedError(opened.weights.decode(), WeightsFileError, 'ERR_WEIGHTS_CHANGED', /rewritten\.h5 changed while it was being read/);
  });
});
