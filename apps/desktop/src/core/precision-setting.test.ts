import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import type { Settings, TaggingProgress } from '../shared/api.js';
import { createEngineClassifier } from './engine-classifier.js';
import { createLibraryService, type LibraryService } from './library-service.js';
import { makeTempDir } from './test-support/temp-dir.js';

const samples = sharedPath('images', 'imagenet-samples');
if (!samples) console.warn(`the precision setting's tests are ${SKIP_NO_SHARED}`);

// Seeded random weights at 71x71 on onnx: the int8 path is the same at 299, and a calibration costs seconds.
const SIZE = 71;
const SEED = 1;
const cacheDir = makeTempDir('xception-precision-cache-');
const classifierFor = (settings: Settings, calibrationPhotos: readonly string[]) =>
  createEngineClassifier({ engine: 'onnx', weights: null, imageSize: SIZE, random: { seed: SEED }, threads: 2, precision: settings.precision, calibrationPhotos, download: { cacheDir } });

describe.skipIf(!samples)('the precision setting: int8 calibrated on the library, refused below the bound, fp32 meanwhile (71x71, seeded weights)', () => {
  const services: LibraryService[] = [];
  afterAll(async () => {
    for (const service of services) await service.dispose();
  });

  /** A library service on `folder` with the real engine classifier; what it logged and last reported. */
  const open = async (dataDir: string, folder: string) => {
    const lines: string[] = [];
    let last: TaggingProgress | null = null;
    const service = createLibraryService({
      dataDir,
      createClassifier: async (settings, { calibrationPhotos }) => classifierFor(settings, calibrationPhotos),
      log: (line) => lines.push(line),
      onProgress: (p) => (last = p),
    });
    services.push(service);
    await service.init();
    await service.updateSettings({ precision: 'int8', engine: 'onnx' });
    await service.addFolder(folder);
    return { service, lines, last: () => last };
  };
  const tagAll = async (service: LibraryService) => {
    await service.startTagging({ scope: 'all' });
    await service.whenIdle();
  };

  it('a model calibrated on grey photos is refused with ERR_PRECISION_REFUSED and the library is tagged in fp32; once the photos change it calibrates again and runs int8; a restart takes the cached model', async () => {
    const real = readdirSync(samples!).sort().slice(0, 16);
    const folder = makeTempDir('xception-precision-photos-');
    mkdirSync(join(folder, 'p'));
    const photo = (i: number) => join(folder, 'p', `photo-${String(i).padStart(2, '0')}.jpg`);
    // Every 4th photo of a calibration is held out to check agreement: here those are real photos,
    // and the 12 it calibrates on are one flat grey, so the real ones fall outside the ranges.
    const grey = await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 140, g: 140, b: 140 } } }).jpeg().toBuffer();
    for (let i = 0; i < 16; i++) {
      if (i % 4 === 3) copyFileSync(join(samples!, real[i]!), photo(i));
      else await sharp(grey).toFile(photo(i));
    }
    const dataDir = makeTempDir('xception-precision-data-');
    const first = await open(dataDir, folder);
    await tagAll(first.service);

    const refused = first.last()!;
    expect(refused).toMatchObject({ state: 'done', done: 16, failed: 0, precision: { running: 'fp32', error: { code: 'ERR_PRECISION_REFUSED' } } });
    console.log(refused.precision!.error!.message);
    expect(refused.precision!.error!.message).toMatch(/^Precision int8 refused: its top-1 class agrees with fp32 on [0-3] of 4 held-out calibration photos \(0\.\d+\), below the 0\.98 bound \(.+\.onnx\); calibrate again on more typical photos \(the library's first 64 photos\), or use precision fp32\. Tagging goes on in fp32\.$/);
    expect(first.service.progress().precision).toEqual(refused.precision);
    expect(first.lines).toEqual([refused.precision!.error!.message]);
    // fp32 indeed: the stored top-5 are those of the fp32 classifier on the same photos.
    const fp32 = classifierFor({ precision: 'fp32' } as Settings, []);
    await fp32.load();
    const reference = await fp32.classifyBatch!([photo(3), photo(7)], 5);
    await fp32.dispose();
    expect([3, 7].map((i) => first.service.library.get(photo(i))!.predictions.map((p) => p.index))).toEqual(reference.map((r) => (r as { predictions: Array<{ index: number }> }).predictions.map((p) => p.index)));

    // Real photos in place of the grey ones: the refused model in the cache does not stand in the way.
    for (let i = 0; i < 16; i++) if (i % 4 !== 3) copyFileSync(join(samples!, real[i]!), photo(i));
    await first.service.scan();
    await first.service.updateSettings({ engine: 'auto' }); // a model setting: the next tagging loads anew
    first.lines.length = 0;
    await tagAll(first.service);
    const calibrated = first.last()!;
    expect(calibrated).toMatchObject({ state: 'done', done: 16, failed: 0 });
    expect(calibrated.precision).toEqual({ running: 'int8', note: "int8: calibrated on the library's first 16 photos (top-1 agreement with fp32 1.000 on 4 held-out photos), cached for later runs" });
    expect(first.lines).toEqual([calibrated.precision!.note]);
    await first.service.dispose();

    // A restart on the same library takes the calibrated model from the cache.
    const again = await open(dataDir, folder);
    await tagAll(again.service);
    expect(again.last()!.precision).toEqual({ running: 'int8', note: 'int8: a cached calibrated model (top-1 agreement with fp32 1.000 on 4 held-out photos)' });
  }, 240_000);
});
