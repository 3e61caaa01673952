import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createIndexStore } from './index-store.js';
import { rebuildIndex } from './rebuild-index.js';
import { reconcileFolder } from './reconcile-scan.js';
import { writePhotoSidecar } from './sidecar-files.js';
import { asList, createMemoryLibrary, EXIFTOOL, exiftoolReadAll, makeTempDir, SKIP_NO_EXIFTOOL } from './testing/index.js';

const vector = (...values: number[]): Float32Array => Float32Array.from(values);

describe.skipIf(!EXIFTOOL)(`rebuilding the index from the sidecars ${EXIFTOOL ? '' : SKIP_NO_EXIFTOOL}`, () => {
  it("records come back from the sidecars alone; unchanged photos keep their features (this session's, then the feature cache's); a changed photo loses them", async () => {
    const photos = makeTempDir('xception-rebuild-');
    const data = makeTempDir('xception-rebuild-data-');
    for (const name of ['a.jpg', 'b.jpg', 'c.jpg']) writeFileSync(join(photos, name), `photo ${name}`);
    await writePhotoSidecar(join(photos, 'a.jpg'), {
      root: 'AI', model: 'imagenet', userTags: ['beach'], removedTags: [], modelTags: [],
      predictions: [{ index: 281, label: 'tabby', score: 0.9 }],
    });
    const store = createIndexStore(data);
    const library = createMemoryLibrary();
    await reconcileFolder(library, photos);
    library.setFeatures(join(photos, 'a.jpg'), vector(1, 0));
    library.setFeatures(join(photos, 'b.jpg'), vector(0, 1));
    await store.save(library, [photos]);
    // After the save: this session's features for c, a record the sidecar does not back, b's bytes changed.
    library.setFeatures(join(photos, 'c.jpg'), vector(1, 1));
    library.upsert({ ...library.get(join(photos, 'a.jpg'))!, added: ['not in the sidecar'] });
    appendFileSync(join(photos, 'b.jpg'), ' edited');

    await rebuildIndex(library, [photos], store);
    const fields = exiftoolReadAll(join(photos, 'a.jpg.xmp'));
    expect(library.get(join(photos, 'a.jpg'))!.added).toEqual(asList(fields['XMP-xcp:UserTags']));
    expect(library.get(join(photos, 'b.jpg'))!.status).toBe('new');
    expect(library.features(join(photos, 'a.jpg'))).toEqual(vector(1, 0));
    expect(library.features(join(photos, 'b.jpg'))).toBeUndefined();
    expect(library.features(join(photos, 'c.jpg'))).toEqual(vector(1, 1));

    // A fresh library (a lost index): the records from the sidecars, the features from the cache the rebuild saved.
    const fresh = createMemoryLibrary();
    await rebuildIndex(fresh, [photos], store);
    expect([...fresh.all()].map((r) => `${r.name}:${r.status}`).sort()).toEqual(['a.jpg:tagged', 'b.jpg:new', 'c.jpg:new']);
    expect(fresh.features(join(photos, 'a.jpg'))).toEqual(vector(1, 0));
    expect(fresh.features(join(photos, 'c.jpg'))).toEqual(vector(1, 1));
    expect(fresh.features(join(photos, 'b.jpg'))).toBeUndefined();
    // And the index it saved loads.
    const loaded = createMemoryLibrary();
    expect(await createIndexStore(data).load(loaded)).toEqual({ folders: [photos], ok: true });
    expect([...loaded.all()].map((r) => r.name).sort()).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
  });
});
