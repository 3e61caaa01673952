import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { oraclePython, readNpy, runOraclePython, sharedPath, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED } from '@xception/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePredictions } from '../decode-predictions.js';
import { preprocessInput } from '../preprocess-input.js';
import { loadImage } from './load-image.js';
import { makeTempDir } from './test-support/temp-dir.js';

const labels = sharedPath('images', 'labels.tsv');
const classIndex = sharedPath('reference', 'imagenet_class_index.json');
const python = oraclePython();

/**
 * Keras' own functions, in one process: `img_to_array(load_img(path, target_size=(299, 299)))`
 * for every photo; `preprocess_input` (Xception's) on the first photo; `decode_predictions` on
 * seeded scores, with Keras' class index read from KERAS_HOME (a temporary folder holding the
 * shared copy, where Keras would otherwise download it).
 */
const KERAS_SCRIPT = `
import sys, json, numpy as np
from PIL import Image
from keras.utils import load_img, img_to_array
from keras.applications.xception import preprocess_input, decode_predictions
paths = open(sys.argv[1]).read().split('\\n')
images = np.stack([img_to_array(load_img(p, target_size=(299, 299))) for p in paths])
np.save(sys.argv[2], images.astype(np.uint8))
np.save(sys.argv[3], preprocess_input(images[:1].copy()).astype(np.float32))
scores = np.fromfile(sys.argv[4], dtype=np.float32).reshape(-1, 1000)
decoded = [[[wnid, label, float(score)] for wnid, label, score in row] for row in decode_predictions(scores, top=5)]
print(json.dumps({'icc': [bool(Image.open(p).info.get('icc_profile')) for p in paths], 'decoded': decoded}))
`;

describe.skipIf(!labels || !classIndex || !python)(
  `loadImage against real Keras' load_img on the 186 shared photos ${!labels ? SKIP_NO_SHARED : !python ? SKIP_NO_ORACLE_PYTHON : ''}`,
  () => {
    const temp = makeTempDir('keras-load-img');
    let paths: string[] = [];
    let keras: Uint8Array;
    let hasIcc: boolean[] = [];
    let kerasDecoded: Array<Array<[string, string, number]>> = [];
    // Softmax-like scores without ties (Keras' argsort would order ties its own way).
    const scores = Float32Array.from({ length: 3 * 1000 }, (_, i) => ((i * 7919) % 1000) / 1000 + (i % 1000) * 1e-6 + Math.floor(i / 1000) * 1e-7);
    const size = 299 * 299 * 3;

    beforeAll(() => {
      paths = readFileSync(labels!, 'utf8').trim().split('\n').slice(1).map((line) => join(dirname(labels!), line.split('\t')[0]!));
      const list = temp.file('paths.txt');
      writeFileSync(list, paths.join('\n'));
      writeFileSync(temp.file('scores.f32'), scores);
      mkdirSync(temp.file('keras-home/models'), { recursive: true });
      copyFileSync(classIndex!, temp.file('keras-home/models/imagenet_class_index.json'));
      const out = runOraclePython(python!, KERAS_SCRIPT, [list, temp.file('keras.npy'), temp.file('preprocessed.npy'), temp.file('scores.f32')], { KERAS_HOME: temp.file('keras-home') });
      const answer = JSON.parse(out.trim().split('\n').at(-1)!) as { icc: boolean[]; decoded: Array<Array<[string, string, number]>> };
      hasIcc = answer.icc;
      kerasDecoded = answer.decoded;
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

    it("preprocessInput gives Keras' xception.preprocess_input, exactly", async () => {
      const { pixels } = await loadImage(paths[0]!);
      const ours = preprocessInput(pixels);
      const theirs = readNpy(temp.file('preprocessed.npy'));
      expect(theirs.shape).toEqual([1, 299, 299, 3]);
      let maxDiff = 0;
      for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs.data[i]!));
      expect(maxDiff).toBe(0);
    });

    it("decodePredictions gives Keras' decode_predictions: the same classes, labels, order and scores", () => {
      const ours = decodePredictions({ data: scores, shape: [3, 1000] }, 5);
      expect(ours.map((row) => row.map((p) => [p.wnid, p.label]))).toEqual(kerasDecoded.map((row) => row.map(([wnid, label]) => [wnid, label])));
      ours.forEach((row, r) => row.forEach((p, k) => expect(p.score).toBe(Math.fround(kerasDecoded[r]![k]![2]))));
    });

    it("colorManagement: 'srgb' changes only photos with an embedded profile", async () => {
      const changed = await differing('srgb');
      expect(changed.length).toBeGreaterThan(0);
      for (const path of changed) expect(hasIcc[paths.indexOf(path)], path).toBe(true);
    }, 60_000);
  },
);
