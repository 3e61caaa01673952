import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createLibraryService } from '../src/core/library-service.js';
import { readPhotoSidecar } from '@xception/photo-library';
import { createEngineClassifier } from '../src/core/engine-classifier.js';
import { makeTempDir } from '../src/core/test-support/temp-dir.js';

const PHOTOS = ['n02088364_beagle.JPEG', 'n01440764_tench.JPEG', 'n01532829_house_finch.JPEG'];
const samples = sharedPath('images', 'imagenet-samples');

describe('end to end with the real Xception (random weights, wasm)', () => {
  it.skipIf(!samples)(`tags 3 real photos through the engine adapter, writes sidecars, photos unchanged ${samples ? '' : SKIP_NO_SHARED}`, async () => {
    const folder = makeTempDir('xception-e2e-');
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    for (const name of PHOTOS) copyFileSync(join(samples!, name), join(folder, name));
    const hash = (n: string) => createHash('sha256').update(readFileSync(join(folder, n))).digest('hex');
    const before = PHOTOS.map(hash);

    // Random weights: the predictions mean nothing, but every piece (sharp decode, preprocess,
    // the model, decodePredictions, pooled features) is the real code the utility process runs.
    const engine = createEngineClassifier({ engine: 'wasm', weights: null });
    const service = createLibraryService({ dataDir: makeTempDir('xception-data-'), createClassifier: async () => engine, onProgress: () => undefined });
    await service.init();
    await service.addFolder(folder);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    expect(service.progress()).toMatchObject({ state: 'done', done: 3, failed: 0 });
    expect(engine.backend()).toMatch(/^wasm, \d+ worker threads?$/);

    for (const name of PHOTOS) {
      const sidecar = await readPhotoSidecar(join(folder, name));
      const predictions = sidecar!.app!.predictions;
      expect(predictions.length).toBe(5);
      expect(predictions.every((p) => p.index >= 0 && p.index < 1000 && p.score > 0 && p.score < 1)).toBe(true);
      expect(sidecar!.app!.model).toBe('random');
    }
    const similar = await service.similar(join(folder, PHOTOS[0]!), 2);
    expect(similar.length).toBe(2);
    expect(PHOTOS.map(hash)).toEqual(before);
    await engine.dispose();
  });
});
