import { copyFileSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { asList, EXIFTOOL, exiftoolRead, SKIP_NO_EXIFTOOL } from '@xception/photo-library/testing';
import { describe, expect, it } from 'vitest';
import { createLibraryModel } from '@xception/photo-library';
import type { LibraryChange } from '../shared/api.js';
import { createEngineClassifier } from './engine-classifier.js';
import { createFolderSync } from './folder-sync.js';
import { createLibraryService, type LibraryService } from './library-service.js';
import { createStandInClassifier } from './test-support/stand-in-classifier.js';
import { makeTempDir } from './test-support/temp-dir.js';

/** Polls until `done()` holds; the deadline only keeps a broken watcher from hanging the run (not a timed assertion). */
async function until(done: () => boolean, what: string, deadlineMs = 120_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const photo = (seed: number): Promise<Buffer> =>
  sharp(Buffer.alloc(48 * 36 * 3).map((_, j) => (j * (5 + seed * 11)) % 256), { raw: { width: 48, height: 36, channels: 3 } }).jpeg().toBuffer();

const names = (service: LibraryService): string[] => service.query({ limit: 1000 }).photos.map((p) => p.id);

describe.skipIf(!EXIFTOOL)(`watched folders, a real watcher and a seeded 71x71 model on onnxruntime ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it('tags a photo copied into a watched folder (and into a new subfolder) without a Rescan, and drops a deleted one', async () => {
    const album = makeTempDir('xception-watch-');
    writeFileSync(join(album, 'first.jpg'), await photo(1));
    const service = createLibraryService({
      dataDir: makeTempDir('xception-watch-data-'),
      createClassifier: async () => createEngineClassifier({ engine: 'onnx', weights: null, imageSize: 71, threads: 1 }),
    });
    try {
      await service.init();
      await service.addFolder(album, { scan: false });
      service.watch({ tagNew: true });
      await service.scan();
      await service.startTagging({ scope: 'new' });
      await service.whenIdle();
      // Copied in, as a user or a sync tool does: nothing calls scan() from here on.
      const source = join(makeTempDir('xception-watch-src-'), 'new.jpg');
      writeFileSync(source, await photo(2));
      copyFileSync(source, join(album, 'copied.jpg'));
      mkdirSync(join(album, 'trip'));
      copyFileSync(source, join(album, 'trip', 'deeper.jpg'));
      const sidecars = [join(album, 'copied.jpg.xmp'), join(album, 'trip', 'deeper.jpg.xmp')];
      await until(() => sidecars.every((s) => readdirSync(join(s, '..')).includes(s.split('/').pop()!)), 'sidecars of the copied photos');
      await service.whenIdle();
      // exiftool reads what was written: the model's five predictions, as for the photo tagged at start.
      for (const file of exiftoolRead(...sidecars, join(album, 'first.jpg.xmp'))) expect(asList(file['XMP-xcp:Predictions'])).toHaveLength(5);
      expect(service.query({ text: 'copied' }).photos[0]).toMatchObject({ status: 'tagged' });
      expect(service.query({ text: 'deeper' }).photos[0]).toMatchObject({ status: 'tagged' });

      rmSync(join(album, 'first.jpg'));
      rmSync(join(album, 'trip'), { recursive: true });
      await until(() => names(service).length === 1, 'the deleted photos to leave the library');
      expect(names(service)).toEqual([join(album, 'copied.jpg')]);
    } finally {
      await service.dispose();
    }
  });
});

describe('a second start', () => {
  it('shows the saved index at once, then a scan finds what changed while the app was closed; unchanged photos are not read again', async () => {
    const album = makeTempDir('xception-second-');
    for (const name of ['keep.jpg', 'edit.jpg', 'gone.jpg']) writeFileSync(join(album, name), await photo(name.length));
    const dataDir = makeTempDir('xception-second-data-');
    const classifier = createStandInClassifier();
    const first = createLibraryService({ dataDir, createClassifier: async () => classifier });
    await first.init();
    await first.addFolder(album);
    await first.startTagging({ scope: 'new' });
    await first.whenIdle();
    await first.dispose();

    // While closed: one photo added, one edited, one deleted, and keep.jpg's sidecar damaged:
    // a start that read the sidecars of unchanged photos again would turn keep.jpg into an error.
    writeFileSync(join(album, 'added.jpg'), await photo(9));
    utimesSync(join(album, 'edit.jpg'), new Date(), new Date(Date.now() + 60_000));
    rmSync(join(album, 'gone.jpg'));
    writeFileSync(join(album, 'keep.jpg.xmp'), '<x:xmpmeta this is not XML');

    const changes: number[] = [];
    const second = createLibraryService({ dataDir, createClassifier: async () => classifier, onLibraryChanged: (c) => changes.push(c.photos) });
    await second.init();
    expect(names(second).map((p) => p.slice(album.length + 1))).toEqual(['edit.jpg', 'gone.jpg', 'keep.jpg']);
    expect(await second.scan()).toEqual({ added: 1, changed: 1, removed: 1, unchanged: 1 });
    const after = second.query({});
    expect(after.photos.map((p) => [p.name, p.status])).toEqual([['added.jpg', 'new'], ['edit.jpg', 'changed'], ['keep.jpg', 'tagged']]);
    expect(changes.at(-1)).toBe(3);
    await second.dispose();
  });
});

describe('a scan streams', () => {
  it('tells the page after each folder that brought photos, with the photos found so far, then once more when it ends', async () => {
    const album = makeTempDir('xception-stream-');
    for (const [folder, count] of [['a', 3], ['b', 1], ['c', 2]] as const) {
      mkdirSync(join(album, folder));
      for (let i = 0; i < count; i++) writeFileSync(join(album, folder, `${i}.jpg`), 'x');
    }
    const library = createLibraryModel({ threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' });
    const changes: LibraryChange[] = [];
    const sync = createFolderSync({ library, folders: () => [album], onNewPhotos: () => undefined, onChanged: (c) => changes.push(c), save: async () => undefined, notifyMs: 0 });
    expect(await sync.scan()).toEqual({ added: 6, changed: 0, removed: 0, unchanged: 0 });
    // Each of the three folders as the walk reaches it (the album itself holds no photo: nothing
    // new to show), then the end.
    expect(changes.map((c) => c.scanning)).toEqual([true, true, true, false]);
    const found = changes.map((c) => c.photos);
    expect(found[0]).toBeGreaterThan(0);
    expect(found[1]).toBeGreaterThan(found[0]!);
    expect(found.slice(2)).toEqual([6, 6]);
    // A second walk over the same folders finds nothing new: one message, at its end.
    changes.length = 0;
    await sync.scan();
    expect(changes).toEqual([{ photos: 6, scanning: false }]);
    sync.close();
  });
});
