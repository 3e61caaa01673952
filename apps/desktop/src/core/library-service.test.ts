import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Prediction } from '../shared/api.js';
import { PathOutsideLibraryError } from './errors.js';
import { createLibraryService } from './library-service.js';
import { readPhotoSidecar } from '@xception/photo-library';
import { createStandInClassifier } from './test-support/stand-in-classifier.js';
import { makeTempDir } from './test-support/temp-dir.js';

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 0xff, 0xd9]);
const answers = new Map<string, Prediction[]>([
  ['rex.jpg', [{ index: 207, label: 'golden_retriever', score: 0.8 }, { index: 208, label: 'Labrador_retriever', score: 0.1 }]],
  ['fido.jpg', [{ index: 208, label: 'Labrador_retriever', score: 0.7 }]],
  ['tom.jpg', [{ index: 281, label: 'tabby', score: 0.9 }]],
]);

function library() {
  const photos = makeTempDir('xception-lib-');
  mkdirSync(join(photos, 'pets'));
  for (const name of ['rex.jpg', 'fido.jpg', 'tom.jpg', 'bad.jpg']) writeFileSync(join(photos, 'pets', name), JPEG);
  const dataDir = makeTempDir('xception-data-');
  const classifier = createStandInClassifier({ answers, failOn: new Set(['bad.jpg']), modelId: 'imagenet' });
  const service = createLibraryService({ dataDir, createClassifier: async () => classifier });
  return { photos, dataDir, classifier, service, pet: (n: string) => join(photos, 'pets', n) };
}

describe('library service', () => {
  it('adds a folder, tags it, writes sidecars, searches by tag and finds similar photos', async () => {
    const { photos, service, pet } = library();
    await service.init();
    expect(await service.addFolder(photos)).toEqual({ path: photos, photoCount: 4 });
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    expect(service.progress()).toMatchObject({ state: 'done', done: 3, failed: 1, total: 4 });
    const dogs = service.query({ tags: ['dog'] });
    expect(dogs.photos.map((p) => p.name)).toEqual(['fido.jpg', 'rex.jpg']);
    expect(service.query({ text: 'tab' }).photos.map((p) => p.name)).toEqual(['tom.jpg']);
    const bad = service.query({ text: 'bad' }).photos[0]!;
    expect(bad.status).toBe('error');
    expect(bad.error).toMatch(/bad\.jpg.*damaged/);
    expect(service.tagCounts().slice(0, 2)).toEqual([{ name: 'dog', count: 2 }, { name: 'cat', count: 1 }]);
    const similar = await service.similar(pet('rex.jpg'), 5);
    expect(similar.map((s) => s.photo.name)).toContain('fido.jpg');
    const sidecar = await readPhotoSidecar(pet('rex.jpg'));
    expect(sidecar?.path).toBe(`${pet('rex.jpg')}.xmp`);
    expect(sidecar?.subjects).toEqual(['dog', 'golden retriever']);
  });

  it('"Tag new photos" tags again the photos other weights tagged (a trained model after ImageNet), and then nothing', async () => {
    const { photos, dataDir, service, pet } = library();
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    await service.dispose();
    const trained = 'file:model.keras#0123456789ab';
    const garden: Prediction[] = [{ index: -1, label: 'garden', score: 0.9 }];
    const classifier = createStandInClassifier({ answers: new Map(['rex.jpg', 'fido.jpg', 'tom.jpg'].map((n) => [n, garden])), failOn: new Set(['bad.jpg']), modelId: trained });
    const again = createLibraryService({ dataDir, createClassifier: async () => classifier, currentModelId: async () => trained });
    await again.init();
    await again.startTagging({ scope: 'new' });
    await again.whenIdle();
    expect(classifier.classified.map((p) => basename(p)).sort()).toEqual(['fido.jpg', 'rex.jpg', 'tom.jpg']);
    const sidecar = await readPhotoSidecar(pet('rex.jpg'));
    expect(sidecar?.app?.model).toBe(trained);
    expect(sidecar?.subjects).toEqual(['garden']);
    expect(again.tagCounts()).toEqual([{ name: 'garden', count: 3 }]);
    classifier.classified.length = 0;
    await again.startTagging({ scope: 'new' });
    await again.whenIdle();
    expect(classifier.classified).toEqual([]);
  });

  it('hand edits survive re-tagging, and the index is rebuilt from the sidecars alone', async () => {
    const { photos, dataDir, service, pet } = library();
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    await service.addTag(pet('rex.jpg'), 'beach');
    await service.removeTag(pet('rex.jpg'), 'golden retriever');
    await service.startTagging({ scope: 'all' });
    await service.whenIdle();
    const tags = () => service.query({ text: 'rex' }).photos[0]!.tags.map((t) => `${t.name}:${t.source}`);
    expect(tags()).toEqual(['dog:model', 'beach:user']);
    expect((await readPhotoSidecar(pet('rex.jpg')))?.subjects).toEqual(['dog', 'beach']);

    // A fresh app on a broken index: everything comes back from the sidecars.
    writeFileSync(join(dataDir, 'library', 'index.json'), '{ broken');
    const again = createLibraryService({ dataDir, createClassifier: async () => createStandInClassifier() });
    await again.init();
    expect(again.query({ text: 'rex' }).photos[0]!.tags.map((t) => `${t.name}:${t.source}`)).toEqual(['dog:model', 'beach:user']);
    expect(again.query({ tags: ['dog'] }).total).toBe(2);
  });

  it('similar photos still works after the index is deleted and rebuilt from the sidecars (features cached beside it)', async () => {
    const { photos, dataDir, service, pet } = library();
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    const before = (await service.similar(pet('rex.jpg'), 5)).map((s) => [s.photo.name, s.similarity.toFixed(6)]);
    expect(before.map(([name]) => name)).toEqual(['fido.jpg', 'tom.jpg']);
    await service.dispose();
    expect(readdirSync(join(dataDir, 'library')).sort()).toEqual(expect.arrayContaining(['features.json', 'folders.json', 'index.json']));

    // No index at all: a fresh app rebuilds it from the sidecars and the features from the cache.
    rmSync(join(dataDir, 'library', 'index.json'));
    const classifier = createStandInClassifier();
    const again = createLibraryService({ dataDir, createClassifier: async () => classifier });
    await again.init();
    expect((await again.similar(pet('rex.jpg'), 5)).map((s) => [s.photo.name, s.similarity.toFixed(6)])).toEqual(before);
    // Nothing to re-run: tagged photos with cached features are complete.
    await again.startTagging({ scope: 'new' });
    await again.whenIdle();
    expect(classifier.classified.map((p) => basename(p))).toEqual(['bad.jpg']);

    // Rebuilding in a running app keeps them too; an edited photo loses its stale row.
    writeFileSync(pet('tom.jpg'), Buffer.concat([JPEG, Buffer.from([0])]));
    await again.rebuildIndex();
    const after = (await again.similar(pet('rex.jpg'), 5)).map((s) => s.photo.name);
    expect(after).toContain('fido.jpg'); // and bad.jpg, which the second stand-in could read
    expect(after).not.toContain('tom.jpg');
    await again.dispose();
  });

  it('a threshold change rewrites sidecars from stored predictions without running the model', async () => {
    const { photos, service, classifier, pet } = library();
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    const runs = classifier.classified.length;
    await service.updateSettings({ threshold: 0.75 });
    await service.whenIdle();
    expect(classifier.classified.length).toBe(runs);
    expect((await readPhotoSidecar(pet('rex.jpg')))?.subjects).toEqual(['dog', 'golden retriever']);
    expect((await readPhotoSidecar(pet('fido.jpg')))?.subjects).toEqual([]);
    expect(service.query({ tags: ['dog'] }).photos.map((p) => p.name)).toEqual(['rex.jpg']);
  });

  it('rescans pick up new and changed photos; only they are tagged next time', async () => {
    const { photos, service, classifier, pet } = library();
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    writeFileSync(pet('new.jpg'), JPEG);
    writeFileSync(pet('tom.jpg'), Buffer.concat([JPEG, JPEG]));
    expect(await service.scan()).toEqual({ added: 1, changed: 1, removed: 0, unchanged: 3 });
    classifier.classified.length = 0;
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    expect(classifier.classified.map((p) => p.split('/').pop()).sort()).toEqual(['bad.jpg', 'new.jpg', 'tom.jpg'].filter((n) => n !== 'bad.jpg'));
  });

  it('rejects paths outside the added folders, including through a symlink', async () => {
    const { photos, service } = library();
    await service.init();
    await service.addFolder(photos);
    await expect(service.addTag('/etc/passwd', 'x')).rejects.toThrow(PathOutsideLibraryError);
    await expect(service.similar(join(photos, '..', 'elsewhere.jpg'), 3)).rejects.toThrow(/not inside a folder added/);
    const { symlinkSync } = await import('node:fs');
    symlinkSync('/etc', join(photos, 'etc-link'));
    await expect(service.guard.check(join(photos, 'etc-link', 'passwd'))).rejects.toThrow(PathOutsideLibraryError);
  });

  it('an unreadable existing sidecar is reported and left byte-for-byte untouched', async () => {
    const { photos, service, pet } = library();
    writeFileSync(`${pet('tom.jpg')}.xmp`, '<x:xmpmeta><not closed');
    await service.init();
    await service.addFolder(photos);
    await service.startTagging({ scope: 'new' });
    await service.whenIdle();
    expect(readFileSync(`${pet('tom.jpg')}.xmp`, 'utf8')).toBe('<x:xmpmeta><not closed');
    const tom = service.query({ text: 'tom' }).photos[0]!;
    expect(tom.status).toBe('error');
    expect(tom.error).toMatch(/not readable XMP.*left untouched/);
    void cpSync;
  });
});
