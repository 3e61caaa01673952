import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedWeights, kerasInitialWeights, resolveXceptionConfig } from '@xception/core';
import { openModel } from '@xception/runtime';
import { loadImage } from '@xception/vision-utils/node';
import { readKerasArchive } from '@xception/weights';
import { listClassFolders, trainClassifier, TrainingError, type TrainingProgress, type TrainingWords } from './index.js';
import { writeTinyDataset } from './test-support/tiny-dataset.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-train-classifier-'));
const data = join(dir, 'data');
const FAST = { weights: null, engine: 'wasm', imageSize: 71, batchSize: 4, seed: 5 } as const;
const refusal = (run: Promise<unknown>): Promise<TrainingError> => run.then(() => { throw new Error('not refused'); }, (e: unknown) => e as TrainingError);

beforeAll(() => writeTinyDataset(data, 5));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trainClassifier: refusals, in the option names (a front door words them its own way)', () => {
  const flags: TrainingWords = { name: (o) => `--${o}`, option: (o, v) => `--${o} ${v}` };

  it('refuses an out that is not .keras, a validationSplit out of range, and a data folder with one class, before writing anything', async () => {
    const out = await refusal(trainClassifier({ data, out: join(dir, 'model.h5') }));
    expect(out).toBeInstanceOf(TrainingError);
    expect(out).toMatchObject({ code: 'ERR_TRAIN_OUT', option: 'out', message: `out: '${join(dir, 'model.h5')}' must name a Keras 3 .keras file (model.keras).` });
    const split = await refusal(trainClassifier({ data, out: join(dir, 'm.keras'), validationSplit: 1 }));
    expect(split).toMatchObject({ code: 'ERR_TRAIN_OPTION', message: 'validationSplit must be at least 0 and below 1; got 1.' });
    const one = join(dir, 'one');
    mkdirSync(join(one, 'only'), { recursive: true });
    const classes = await refusal(trainClassifier({ data: one, out: join(dir, 'one.keras') }));
    expect(classes).toMatchObject({ code: 'ERR_TRAIN_DATA', option: 'data', message: `data: '${one}' holds 1 class folder(s); put each class's images in its own sub-folder (at least 2).` });
    expect(classes.describe(flags)).toBe(`--data ${one} holds 1 class folder(s); put each class's images in its own sub-folder (at least 2).`);
    expect(existsSync(join(dir, 'one.keras.training'))).toBe(false);
  });

  it('an image that cannot be decoded stops the run with ERR_TRAIN_IMAGE naming it', async () => {
    const broken = join(dir, 'broken');
    await writeTinyDataset(broken, 2);
    writeFileSync(join(broken, 'dark', 'not-a-photo.jpg'), 'these bytes are no JPEG');
    // One wasm worker: the refusal, not the pool, is what this checks (each worker builds the model).
    const error = await refusal(trainClassifier({ ...FAST, threads: 1, data: broken, out: join(dir, 'broken.keras'), epochs: 1 }));
    expect(error).toMatchObject({ code: 'ERR_TRAIN_IMAGE', option: 'data' });
    expect(error.describe(flags)).toMatch(new RegExp(`^--data image ${join(broken, 'dark', 'not-a-photo.jpg')} could not be read \\(.+\\); fix or remove it\\.$`));
  }, 120_000);
});

describe('trainClassifier: the feature pass, the cache and the run', () => {
  const out = join(dir, 'model.keras');

  it("keeps each image's features, in the dataset's order, as the engine gives them for that image alone", async () => {
    const events: TrainingProgress[] = [];
    // 10 images, validationSplit 0.95 leaves nothing to train on: refused once the features are cached.
    const error = await refusal(trainClassifier({ ...FAST, data, out, epochs: 2, validationSplit: 0.95, onProgress: (e) => events.push(e) }));
    expect(error).toMatchObject({ code: 'ERR_TRAIN_DATA', option: 'validationSplit', message: 'validationSplit: 0.95 of 10 images leaves nothing to train on; add images or change validationSplit.' });
    expect(events.filter((e) => e.kind === 'features').map((e) => e.kind === 'features' && e.total)).toEqual([10, 10, 10]);
    expect(events.at(-2)).toMatchObject({ kind: 'features', done: 10, total: 10 });
    expect(events.at(-1)).toMatchObject({ kind: 'features-end', images: 10 });

    const bytes = readFileSync(join(`${out}.training`, 'features.f32'));
    const cached = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
    const { samples } = await listClassFolders(data, FAST.seed);
    const config = resolveXceptionConfig({ weights: null, includeTop: false, pooling: 'avg', inputShape: [71, 71, 3] });
    const model = await openModel(null, { engine: 'wasm', threads: 1, includeTop: false, pooling: 'avg', imageSize: 71, values: kerasInitialWeights(expectedWeights(config), FAST.seed) });
    try {
      for (const [i, sample] of samples.entries()) {
        const alone = await model.run((await loadImage(sample.path, { size: 71 })).pixels, 1);
        expect(cached.subarray(i * 2048, (i + 1) * 2048)).toEqual(alone.features);
      }
    } finally {
      await model.dispose();
    }
  }, 180_000);

  it('a rerun reads the cached features, trains, writes the .keras with the class names, and removes its work folder', async () => {
    const events: TrainingProgress[] = [];
    const trained = await trainClassifier({ ...FAST, data, out, epochs: 2, validationSplit: 0.2, onProgress: (e) => events.push(e) });
    expect(events[0]).toEqual({ kind: 'features-cached', images: 10, path: join(`${out}.training`, 'features.f32') });
    expect(events.filter((e) => e.kind === 'epoch').map((e) => e.kind === 'epoch' && `${e.stage} ${e.log.epoch + 1}/${e.epochs}`)).toEqual(['head 1/2', 'head 2/2']);
    expect(trained).toMatchObject({ out, classNames: ['bright', 'dark'], trainCount: 8, validationCount: 2, fineTuneHistory: [] });
    expect(trained.history).toHaveLength(2);
    expect((await readKerasArchive(out)).classNames).toEqual(['bright', 'dark']);
    expect(existsSync(`${out}.training`)).toBe(false);
  }, 180_000);
});
