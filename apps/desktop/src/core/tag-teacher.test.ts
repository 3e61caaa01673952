import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@xception/core';
import type { Prediction, TeachTagResult } from '../shared/api.js';
import { createBridgeMethods } from './bridge-methods.js';
import { NotEnoughExamplesError } from './errors.js';
import { createLibraryModel } from '@xception/photo-library';
import { createLibraryService, TAUGHT_TAG_CLASS } from './library-service.js';
import { teachTagFromLibrary } from './tag-teacher.js';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from './test-support/exiftool.js';
import { createStandInClassifier } from './test-support/stand-in-classifier.js';
import { makeTempDir } from './test-support/temp-dir.js';

/**
 * "Teach a tag" through the bridge methods both shells dispatch to, on a library tagged by the
 * stand-in classifier. Its features are one-hot (a few dimensions); real pooled features are
 * dense and non-negative, so the test puts seeded dense ones in their place (as a classifier
 * would, through the library's setFeatures): a 2048-d vector per class plus 10% noise per
 * photo. The two untagged receipts are near-duplicates of the two receipts tagged by hand.
 */
const makeDenseFeatures = (seed: number) => {
  const random = seededRandom(seed);
  const classVector = new Map<number, Float32Array>();
  return (classIndex: number): Float32Array => {
    if (!classVector.has(classIndex)) classVector.set(classIndex, Float32Array.from({ length: 2048 }, () => random()));
    return Float32Array.from(classVector.get(classIndex)!, (v) => v + 0.1 * random());
  };
};
const denseFeatures = makeDenseFeatures(15);
const JPEG = (n: number) => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, n, 0xff, 0xd9]);
const RECEIPT: Prediction[] = [{ index: 549, label: 'envelope', score: 0.4 }];
const classes: [string, Prediction[]][] = [
  ...['receipt-1', 'receipt-2', 'receipt-3', 'receipt-4'].map((n): [string, Prediction[]] => [n, RECEIPT]),
  ...['dog-1', 'dog-2', 'dog-3'].map((n): [string, Prediction[]] => [n, [{ index: 207, label: 'golden_retriever', score: 0.8 }]]),
  ...['cat-1', 'cat-2', 'cat-3'].map((n): [string, Prediction[]] => [n, [{ index: 281, label: 'tabby', score: 0.9 }]]),
  ...['car-1', 'car-2'].map((n): [string, Prediction[]] => [n, [{ index: 817, label: 'sports_car', score: 0.7 }]]),
];

describe('teach a tag (bridge methods → library service → sidecars)', () => {
  const folder = makeTempDir('xception-teach-');
  const photo = (name: string) => join(folder, 'album', `${name}.jpg`);
  const service = createLibraryService({
    dataDir: makeTempDir('xception-teach-data-'),
    createClassifier: async () => createStandInClassifier({ answers: new Map(classes.map(([n, p]) => [`${n}.jpg`, p])) }),
  });
  const methods = createBridgeMethods({ service, pickers: { pickFolders: async () => [folder], pickWeightsFile: async () => null } });
  const call = <T>(name: Parameters<typeof methods.call>[0], ...args: unknown[]) => methods.call(name, args) as Promise<T>;
  let taught: TeachTagResult;

  beforeAll(async () => {
    mkdirSync(join(folder, 'album'));
    classes.forEach(([name], i) => writeFileSync(photo(name), JPEG(i)));
    await service.init();
    await call('addFolders');
    await call('startTagging', { scope: 'new' });
    await service.whenIdle();
    for (const [name, predictions] of classes) service.library.setFeatures(photo(name), denseFeatures(predictions[0]!.index));
  });

  it('refuses with fewer than 2 hand-tagged photos, in the page’s words, and says why', async () => {
    await expect(call('teachTag', 'receipt')).rejects.toThrow(NotEnoughExamplesError);
    await call('addTag', photo('receipt-1'), 'receipt');
    await expect(call('teachTag', 'receipt')).rejects.toThrow('To teach “receipt”, tag at least 2 photos “receipt” by hand (Add a tag in the photo panel); 1 tagged photo is ready.');
    await expect(call('teachTag', 'receipt', { autoApply: 'yes' })).rejects.toThrow(/Invalid argument to 'teachTag': 1\.autoApply/);
    await expect(call('teachTag', 'a/b')).rejects.toThrow(/^The tag "a\/b" cannot be used: /);
  });

  it('two hand-tagged receipts: the two untagged near-duplicates come first, everything else far below', async () => {
    await call('addTag', photo('receipt-2'), 'receipt');
    // Training yields after every epoch: a 1 ms timer keeps firing meanwhile (it would not fire once otherwise).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    taught = await call<TeachTagResult>('teachTag', 'receipt').finally(() => clearInterval(timer));
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(taught).toMatchObject({ tag: 'receipt', positives: 2, negatives: 10, applied: 0 });
    const names = taught.suggestions.map((s) => s.photo.name);
    expect(names).toHaveLength(10);
    expect(names.slice(0, 2).sort()).toEqual(['receipt-3.jpg', 'receipt-4.jpg']);
    const [first, second, third] = taught.suggestions.map((s) => s.score);
    expect(first! >= second! && second! > third!).toBe(true);
    // Measured: both near-duplicates ≈ 1.00, the best other photo ≈ 0.04.
    expect(second!).toBeGreaterThan(0.9);
    expect(third!).toBeLessThan(0.1);
    expect(taught.suggestions.every((s) => s.score >= 0 && s.score <= 1 && !s.photo.tags.some((t) => t.name === 'receipt'))).toBe(true);
    // Nothing was written: the suggestions' sidecars have no "receipt" yet.
    expect(service.query({ tags: ['receipt'] }).total).toBe(2);
    expect(service.taughtTags().get('receipt')?.heads).toHaveLength(2);
  });

  it.skipIf(!EXIFTOOL)(`Accept writes the tag to the sidecar as a hand tag (exiftool reads it back) ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, async () => {
    const accepted = await call<{ tags: { name: string; source: string }[] }>('acceptSuggestion', photo('receipt-3'), 'receipt');
    expect(accepted.tags).toContainEqual(expect.objectContaining({ name: 'receipt', source: 'user' }));
    const [sidecar] = exiftoolRead(`${photo('receipt-3')}.xmp`);
    expect(asList(sidecar!['XMP-dc:Subject'])).toContain('receipt');
    expect(asList(sidecar!['XMP-xcp:UserTags'])).toEqual(['receipt']);
    expect(service.taughtTags().get('receipt')!.scores.map((s) => s.id)).not.toContain(photo('receipt-3'));
    await expect(call('acceptSuggestion', '/etc/passwd', 'receipt')).rejects.toThrow(/not inside a folder added/);
  });

  it.skipIf(!EXIFTOOL)('autoApply writes suggestions at or above the threshold as model tags, and only those', async () => {
    const before = exiftoolRead(`${photo('dog-1')}.xmp`)[0]!;
    await call('updateSettings', { threshold: 0.5 });
    await service.whenIdle();
    const result = await call<TeachTagResult>('teachTag', 'receipt', { autoApply: true });
    const above = result.suggestions.filter((s) => s.score >= 0.5);
    expect(result.positives).toBe(3);
    // receipt-4 is the one near-duplicate left: it scored above 0.5, was written, and so is no suggestion any more.
    expect(result.applied).toBe(1);
    expect(above).toEqual([]);
    expect(result.suggestions).toHaveLength(8);
    const receipt4 = service.query({ text: 'receipt-4' }).photos[0]!;
    expect(receipt4.tags).toContainEqual(expect.objectContaining({ name: 'receipt', source: 'model' }));
    const [sidecar] = exiftoolRead(`${photo('receipt-4')}.xmp`);
    expect(asList(sidecar!['XMP-dc:Subject'])).toContain('receipt');
    expect(asList(sidecar!['XMP-xcp:ModelTags'])).toContain('receipt');
    expect(asList(sidecar!['XMP-xcp:Predictions']).some((p) => p.startsWith(`${TAUGHT_TAG_CLASS}|receipt|`))).toBe(true);
    // A photo far below the threshold keeps its sidecar's tags.
    const after = exiftoolRead(`${photo('dog-1')}.xmp`)[0]!;
    expect(after['XMP-dc:Subject']).toEqual(before['XMP-dc:Subject']);

    // Removed by hand: neither suggested nor written again.
    await call('removeTag', photo('receipt-4'), 'receipt');
    const again = await call<TeachTagResult>('teachTag', 'receipt', { autoApply: true });
    expect(again.applied).toBe(0);
    expect(again.suggestions.map((s) => s.photo.name)).not.toContain('receipt-4.jpg');
    expect(asList(exiftoolRead(`${photo('receipt-4')}.xmp`)[0]!['XMP-dc:Subject'])).not.toContain('receipt');
  });
});

describe('auto-applied taught tags last: "Re-tag all", a restart, photos added later', () => {
  const folder = makeTempDir('xception-taught-');
  const dataDir = makeTempDir('xception-taught-data-');
  const photo = (name: string) => join(folder, `${name}.jpg`);
  const noise = seededRandom(16);
  const prototypes = new Map<number, Float32Array>();
  /** The stand-in's predictions, with dense features in place of its one-hot ones: a class's vector plus 10% noise per call. */
  const classifier = () => {
    const answers = new Map([...classes, ['receipt-5', RECEIPT], ['dog-5', classes[4]![1]]].map(([n, p]) => [`${n as string}.jpg`, p as Prediction[]]));
    const standIn = createStandInClassifier({ answers });
    return {
      ...standIn,
      async classify(path: string, topK: number) {
        const result = await standIn.classify(path, topK);
        const index = result.predictions[0]!.index;
        if (!prototypes.has(index)) prototypes.set(index, Float32Array.from({ length: 2048 }, () => noise()));
        return { ...result, features: Float32Array.from(prototypes.get(index)!, (v) => v + 0.1 * noise()) };
      },
    };
  };
  const start = async () => {
    const service = createLibraryService({ dataDir, createClassifier: async () => classifier() });
    await service.init();
    return service;
  };
  const modelTags = (name: string): string[] => asList(exiftoolRead(`${photo(name)}.xmp`)[0]!['XMP-xcp:ModelTags']);

  it.skipIf(!EXIFTOOL)(`keeps them on re-tagging, never where removed by hand; after a restart, tags new photos with them ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, async () => {
    classes.forEach(([name], i) => writeFileSync(photo(name), JPEG(i)));
    const first = await start();
    await first.updateSettings({ threshold: 0.5 });
    await first.addFolder(folder);
    await first.startTagging({ scope: 'new' });
    await first.whenIdle();
    for (const name of ['receipt-1', 'receipt-2']) await first.addTag(photo(name), 'receipt');
    const result = await first.teachTag('receipt', { autoApply: true });
    expect(result.applied).toBe(2); // the two untagged receipts (near-duplicates), nothing else
    expect(modelTags('receipt-3')).toContain('receipt');
    expect(modelTags('receipt-4')).toContain('receipt');
    await first.removeTag(photo('receipt-4'), 'receipt');

    // "Re-tag all": the model runs again on every photo; the auto-applied tag stays, the removed one stays removed.
    await first.startTagging({ scope: 'all' });
    await first.whenIdle();
    expect(first.progress()).toMatchObject({ state: 'done', failed: 0 });
    expect(modelTags('receipt-3')).toContain('receipt');
    expect(modelTags('receipt-4')).not.toContain('receipt');
    expect(classes.filter(([n]) => !n.startsWith('receipt')).every(([n]) => !modelTags(n).includes('receipt'))).toBe(true);
    await first.dispose();

    // A restart (a new service on the same data folder), then two new photos: a receipt gets the tag, a dog does not.
    const second = await start();
    expect(second.taughtTags().get('receipt')).toMatchObject({ autoApply: true, model: 'stand-in', positives: 2 });
    copyFileSync(photo('receipt-1'), photo('receipt-5'));
    copyFileSync(photo('dog-1'), photo('dog-5'));
    expect(await second.scan()).toMatchObject({ added: 2 });
    await second.startTagging({ scope: 'new' });
    await second.whenIdle();
    expect(modelTags('receipt-5')).toContain('receipt');
    expect(modelTags('dog-5')).not.toContain('receipt');
    expect(modelTags('receipt-4')).not.toContain('receipt');
    await second.dispose();
  });
});

describe('teachTagFromLibrary learns from the photos of one model only', () => {
  // Receipts and dogs tagged by 'new' weights, plus one hand-tagged receipt whose features come
  // from 'old' weights (a re-tag after a change of weights not finished yet): its vector is
  // unlike anything 'new' gives, so learning from it would change what the heads say.
  const library = createLibraryModel({ threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' });
  const add = (name: string, model: string, added: string[], features: Float32Array): void => {
    library.upsert({ id: `/p/${name}.jpg`, folder: '/p', name: `${name}.jpg`, size: 1, mtimeMs: 1, status: 'tagged', predictions: [], model, added, removed: [] });
    library.setFeatures(`/p/${name}.jpg`, features);
  };
  const denseFeatures = makeDenseFeatures(16); // its own sequence: the flow above keeps its features
  const old = Float32Array.from({ length: 2048 }, (_, i) => (i % 2 === 0 ? 1 : 0));
  ['r1', 'r2'].forEach((n) => add(n, 'new', ['receipt'], denseFeatures(549)));
  ['r3', 'r4'].forEach((n) => add(n, 'new', [], denseFeatures(549)));
  ['d1', 'd2', 'd3', 'd4'].forEach((n) => add(n, 'new', [], denseFeatures(207)));
  add('r-old', 'old', ['receipt'], old);
  add('d-old', 'old', [], old);

  it("counts the current weights' photos only, and says why the others wait", async () => {
    const taught = await teachTagFromLibrary(library, 'receipt', 0, 'new');
    expect(taught).toMatchObject({ model: 'new', positives: 2, negatives: 6 });
    expect(taught.scores.map((s) => s.id)).not.toContain('/p/d-old.jpg');
    expect(taught.scores.slice(0, 2).map((s) => s.id).sort()).toEqual(['/p/r3.jpg', '/p/r4.jpg']);
    // Without the app's model id: the weights most photos carry ('new', 8 of 10).
    expect(await teachTagFromLibrary(library, 'receipt')).toMatchObject({ model: 'new', positives: 2, negatives: 6 });
    await expect(teachTagFromLibrary(library, 'receipt', 0, 'old')).rejects.toThrow(
      'To teach “receipt”, tag at least 2 photos “receipt” by hand (Add a tag in the photo panel); 1 tagged photo is ready (2 more have it but were tagged with other weights: press “Tag new photos” first).');
  });
});
