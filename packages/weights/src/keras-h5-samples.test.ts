import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { readKerasH5File } from './keras-h5-file.js';

// Every real Keras file in shared/keras-h5-samples, checked against what h5py read from it.
const samples = sharedPath('keras-h5-samples');
const expectedFiles = samples ? readdirSync(join(samples, 'expected')).filter((f) => f.endsWith('.json')) : [];

interface ExpectedDataset { path: string; shape: number[]; dtype: string; sha256_le: string; first: number[] }
interface Expected {
  file: string;
  bytes: number;
  root_attrs: Record<string, unknown>;
  groups: Record<string, { layer_names?: string[]; weight_names?: string[] }>;
  datasets: ExpectedDataset[];
}

describe.skipIf(!samples)(`real Keras HDF5 samples ${samples ? '' : SKIP_NO_SHARED}`, () => {
  it('has the eleven samples', () => {
    expect(expectedFiles.length).toBe(11);
  });
  for (const name of expectedFiles) {
    it(`reads ${name.replace('.json', '')} as h5py does`, async () => {
      const expected = JSON.parse(readFileSync(join(samples!, 'expected', name), 'utf8')) as Expected;
      const [dir] = name.split('__') as [string];
      const contents = await readKerasH5File(join(samples!, dir, expected.file));

      const modelSave = 'model_weights' in expected.groups;
      expect(contents.layout).toBe(modelSave ? 'model.save' : 'save_weights');
      const rootAttrs = modelSave ? expected.groups['model_weights']! : expected.root_attrs;
      expect(contents.layers.map((l) => l.name)).toEqual((rootAttrs as { layer_names: string[] }).layer_names);
      expect(contents.kerasVersion).toBe(expected.root_attrs.keras_version);

      const prefix = modelSave ? 'model_weights/' : '';
      for (const layer of contents.layers) {
        expect(layer.weights.map((w) => w.name)).toEqual(expected.groups[`${prefix}${layer.name}`]!.weight_names);
      }
      const read = contents.layers.flatMap((l) => l.weights);
      // model.save files also hold the optimizer's state, which is no layer's weight.
      const layerDatasets = expected.datasets.filter((d) => !d.path.startsWith('optimizer_weights/'));
      const byPath = new Map(layerDatasets.map((d) => [d.path, d]));
      expect(read.map((w) => w.path).sort()).toEqual([...byPath.keys()].sort());
      for (const w of read) {
        const want = byPath.get(w.path)!;
        expect({ path: w.path, shape: w.shape, dtype: w.dtype }).toEqual({ path: want.path, shape: want.shape, dtype: want.dtype });
        const bytes = Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);
        expect(createHash('sha256').update(bytes).digest('hex'), w.path).toBe(want.sha256_le);
      }
    });
  }
});
