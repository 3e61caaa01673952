import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { oraclePython, readNpy, runOraclePython, sharedPath, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED } from '@xception/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from './load-image.js';
import { makeTempDir } from './test-support/temp-dir.js';

const labels = sharedPath('images', 'labels.tsv');
const python = oraclePython();

/** Keras' own pipeline, `img_to_array(load_img(path, target_size=(299, 299)))`, for every photo, in one process. */
const KERAS_LOAD_IMG = `
import sys, numpy as np
from PIL import Image
from keras.utils import load_img, img_to_array
paths = open(sys.argv[1]).read().split('\\n')
np.save(sys.argv[2], np.stack([img_to_array(load_img(p, target_size=(299, 299))).astype(np.uint8) for p in paths]))
print('\\n'.join('icc' if Image.open(p).info.get('icc_profile') else '-' for p in paths))
`;

describe.skipIf(!labels || !python)(
  `loadImage against real Keras' load_img on the 186 shared photos ${!labels ? SKIP_NO_SHARED : !python ? SKIP_NO_ORACLE_PYTHON : ''}`,
  () => {
    const temp = makeTempDir('keras-load-img');
    let paths: string[] = [];
    let keras: Uint8Array;
    let hasIcc: boolean[] = [];
    const size = 299 * 299 * 3;

    beforeAll(() => {
      paths = readFileSync(labels!, 'utf8').trim().split('\n').slice(1).map((line) => join(dirname(labels!), line.split('\t')[0]!));
      const list = temp.file('paths.txt');
      writeFileSync(list, paths.join('\n'));
      hasIcc = runOraclePython(python!, KERAS_LOAD_IMG, [list, temp.file('keras.npy')]).trim().split('\n').map((s) => s === 'icc');
      const array = readNpy(temp.file('keras.npy'));
      expect(array.shape).toEqual([paths.length, 299, 299, 3]);
      keras = array.data as Uint8Array;
    }, 120_000);
    afterAll(() => temp.remove());

    const differing = async (colorManagement: 'ignore' | 'srgb'): Promise<string[]> => {
      const out: string[] = [];
      for (let i = 0; i < paths.length; i++) {
        const { pixels } = await loadImage(paths[i]!, { colorManagement });
        const reference = keras.subarray(i * size, (i + 1) * size);
        if (pixels.length !== size || pixels.some((v, j) => v !== reference[j])) out.push(paths[i]!);
      }
      return out;
    };

    it('the default decoding is byte-identical to Keras on all 186 photos, the 55 with an ICC profile included', async () => {
      expect(paths).toHaveLength(186);
      expect(hasIcc.filter(Boolean)).toHaveLength(55);
      expect(await differing('ignore')).toEqual([]);
    }, 60_000);

    it("colorManagement: 'srgb' changes only photos with an embedded profile", async () => {
      const changed = await differing('srgb');
      expect(changed.length).toBeGreaterThan(0);
      for (const path of changed) expect(hasIcc[paths.indexOf(path)], path).toBe(true);
    }, 60_000);
  },
);
