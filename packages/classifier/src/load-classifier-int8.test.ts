import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SKIP_NO_SHARED, sharedPath } from '@xception/test-kit';
import { ClassifierError, loadClassifier } from './node/index.js';

const photosDir = sharedPath('images', 'imagenet-samples');
if (!photosDir) console.warn(SKIP_NO_SHARED);
const cacheDir = mkdtempSync(join(tmpdir(), 'xception-classifier-int8-'));
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

describe.skipIf(!photosDir)('loadClassifier({ precision }) (seeded 71x71 weights, shared photos)', () => {
  const photos = photosDir ? readdirSync(photosDir).sort().slice(0, 20).map((f) => join(photosDir, f)) : [];

  test("precision: 'int8' calibrates on `calibration`, runs onnxruntime's int8 model, and agrees with fp32 on other photos", async () => {
    const int8 = await loadClassifier({ weights: null, imageSize: 71, threads: 2, precision: 'int8', calibration: photos.slice(0, 16), cacheDir });
    const fp32 = await loadClassifier({ weights: null, imageSize: 71, threads: 2, engine: 'onnx', cacheDir });
    try {
      expect(int8.engine).toMatch(/model int8, calibrated on 12 photos/);
      const [a, b] = [await int8.classify(photos.slice(16), { topK: 1 }), await fp32.classify(photos.slice(16), { topK: 1 })];
      const agree = a.filter((top, i) => top[0]!.index === b[i]![0]!.index).length;
      console.log(`loadClassifier int8 vs fp32 on 4 other photos: top-1 agrees on ${agree}`);
      expect(agree).toBeGreaterThanOrEqual(3);
    } finally {
      await Promise.all([int8.dispose(), fp32.dispose()]);
    }
  }, 240_000);

  test('a wrong precision, and int8 without photos or a cached model, are ERR_CLASSIFIER_OPTIONS in option words', async () => {
    const wrong = await loadClassifier({ weights: null, precision: 'int4' as never }).catch((e: unknown) => e) as ClassifierError;
    expect(wrong.message).toBe("loadClassifier: precision must be 'fp32' or 'int8'; got \"int4\".");
    const none = await loadClassifier({ weights: null, imageSize: 71, precision: 'int8', cacheDir: join(cacheDir, 'empty') }).catch((e: unknown) => e) as ClassifierError;
    expect(none.code).toBe('ERR_CLASSIFIER_OPTIONS');
    expect(none.message).toMatch(/^loadClassifier: precision: 'int8' needs an int8 model calibrated on photos, and none of these weights is cached; pass calibration: \[\.\.\.photo paths\]/);
  });
});
