import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { WeightsFileError } from './errors.js';
import { readKerasArchive } from './keras-archive.js';
import { loadXception } from './load-xception.js';
import { readWeights } from './weights-source.js';
import { writeKerasArchive } from './keras3-writer.js';
import { expectTypedError } from './test-support/expect-typed-error.js';
import { saneRandomWeights, sameBits, useBackend } from './test-support/test-imports.js';

// What real Keras makes of these files is in keras3-oracle.test.ts; here, the archive's checks
// and errors, which need no Python.
const dir = mkdtempSync(join(tmpdir(), 'xception-keras-archive-'));
const config = resolveXceptionConfig({ weights: null, classes: 3, inputShape: [80, 96, 3], classifierActivation: 'sigmoid' });
const values = saneRandomWeights(expectedWeights(config), 5);
const archive = join(dir, 'three.keras');
let entries: Record<string, Uint8Array>;

/**
 * A copy of the archive with some entries replaced or removed. The config is checked before the
 * weights are read, so unless `keepWeights`, a few bytes stand in for them (a faster test).
 */
function variant(name: string, change: (e: Record<string, Uint8Array>) => void, keepWeights = false): string {
  const copy = { ...entries, ...(keepWeights ? {} : { 'model.weights.h5': strToU8('weights are not read') }) };
  change(copy);
  const path = join(dir, name);
  writeFileSync(path, zipSync(Object.fromEntries(Object.entries(copy).map(([k, v]) => [k, [v, { level: 0 }]]))));
  return path;
}
const withConfig = (edit: (config: Record<string, any>) => void) => (e: Record<string, Uint8Array>): void => {
  const json = JSON.parse(strFromU8(e['config.json']!));
  edit(json);
  e['config.json'] = strToU8(JSON.stringify(json));
};

beforeAll(async () => {
  await useBackend('wasm');
  await writeKerasArchive(archive, { config, values, classNames: ['cat', 'dog', 'fox'] });
  entries = unzipSync(readFileSync(archive));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.keras archives', () => {
  it('hold what Keras 3 writes: config.json, metadata.json and model.weights.h5 in its layers/<class>_N/vars layout, stored', () => {
    expect(Object.keys(entries).sort()).toEqual(['config.json', 'metadata.json', 'model.weights.h5']);
    expect(JSON.parse(strFromU8(entries['metadata.json']!))).toMatchObject({ keras_version: '3.15.1', class_names: ['cat', 'dog', 'fox'] });
  });

  it('read back bit for bit, with the options and class names they were saved with', async () => {
    const reading = await readWeights(archive);
    expect(reading.format).toBe('keras');
    if (!('savedConfig' in reading)) throw new Error('not an archive reading');
    expect(reading.savedConfig).toEqual({ includeTop: true, classes: 3, inputShape: [80, 96, 3], pooling: null, classifierActivation: 'sigmoid' });
    expect(reading.classNames).toEqual(['cat', 'dog', 'fox']);
    for (const [name, value] of values) expect(sameBits(reading.values.get(name)!.values, value.values), name).toBe(true);
  });

  it("loadXception takes the archive's options for those not given, and given ones over them", async () => {
    const model = await loadXception({ weights: archive });
    expect(model.config).toMatchObject({ includeTop: true, classes: 3, inputShape: [80, 96, 3], classifierActivation: 'sigmoid' });
    model.dispose();
    const features = await loadXception({ weights: archive, includeTop: false, pooling: 'max', inputShape: [71, 71, 3] });
    expect(features.config).toMatchObject({ includeTop: false, pooling: 'max', inputShape: [71, 71, 3] });
    features.dispose();
  });

  it('refuse a classes option that does not fit their weights, with the same typed error as .h5 files', async () => {
    await expectTypedError(loadXception({ weights: archive, classes: 1000 }), WeightsFileError, 'ERR_WEIGHTS_SHAPE', /a 3-class top; set classes: 3/);
    // A notop archive asked for a top fails in the mapping that .h5 files share (keras-h5.test.ts).
  });

  it('refuse a file that is not a zip, a cut-off copy, and archives that are not Keras Xception models', async () => {
    const text = join(dir, 'text.keras');
    writeFileSync(text, 'not a model');
    await expectTypedError(readKerasArchive(text), WeightsFileError, 'ERR_WEIGHTS_FORMAT', /not a zip archive/);
    const cut = join(dir, 'cut.keras');
    writeFileSync(cut, readFileSync(archive).subarray(0, 1_000_000));
    await expectTypedError(readKerasArchive(cut), WeightsFileError, 'ERR_WEIGHTS_TRUNCATED', /cut\.keras is truncated/);
    await expectTypedError(readKerasArchive(join(dir, 'missing.keras')), WeightsFileError, 'ERR_WEIGHTS_NOT_FOUND', /does not exist/);
    await expectTypedError(readKerasArchive(variant('noconfig.keras', (e) => delete e['config.json'])), WeightsFileError, 'ERR_WEIGHTS_FORMAT', /no config\.json/);
    await expectTypedError(
      readKerasArchive(variant('sequential.keras', withConfig((c) => { c.class_name = 'Sequential'; }))),
      WeightsFileError, 'ERR_WEIGHTS_FORMAT', /a Sequential, not a functional Keras model/,
    );
    await expectTypedError(
      readKerasArchive(variant('resnet.keras', withConfig((c) => { c.config.layers = c.config.layers.filter((l: { name: string }) => l.name !== 'block1_conv1'); }))),
      WeightsFileError, 'ERR_WEIGHTS_FORMAT', /no layer 'block1_conv1'/,
    );
    await expectTypedError(
      readKerasArchive(variant('wide.keras', withConfig((c) => { c.config.layers.at(-1).config.units = 1000; }), true)),
      WeightsFileError, 'ERR_WEIGHTS_FORMAT', /a 1000-class top but model\.weights\.h5 holds a 3-class one/,
    );
    await expectTypedError(readKerasArchive(variant('badjson.keras', (e) => { e['config.json'] = strToU8('{'); })), WeightsFileError, 'ERR_WEIGHTS_FORMAT', /not valid JSON/);
  });
});
