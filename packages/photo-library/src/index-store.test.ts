import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLibraryModel } from './library-model.js';
import { cachedFor, createIndexStore, readFeatureCache, writeFeatureCache } from './index.js';
import { makeTempDir } from './testing/temp-dir.js';

const rules = { threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' as const };

describe('index store', () => {
  it('round-trips records, folders and features (non-ASCII paths too)', async () => {
    const dir = makeTempDir('xception-index-');
    const library = createLibraryModel(rules);
    const id = '/home/zoë/Photos/été/chien 1.jpg';
    library.upsert({ id, folder: '/home/zoë/Photos', name: 'chien 1.jpg', size: 10, mtimeMs: 5, status: 'tagged', predictions: [{ index: 207, label: 'golden_retriever', score: 0.9 }], added: ['plage'], removed: [] });
    library.setFeatures(id, Float32Array.from([3, 4]));
    await createIndexStore(dir).save(library, ['/home/zoë/Photos']);
    const loaded = createLibraryModel(rules);
    expect(await createIndexStore(dir).load(loaded)).toEqual({ folders: ['/home/zoë/Photos'], ok: true });
    expect(loaded.get(id)).toEqual(library.get(id));
    expect(loaded.features(id)).toEqual(Float32Array.from([0.6, 0.8]));
  });

  it('the feature cache holds float32 rows keyed by path, size and mtime, and drops a torn pair', async () => {
    const dir = makeTempDir('xception-features-');
    await writeFeatureCache(dir, [
      [{ id: '/p/a.jpg', size: 10, mtimeMs: 1, model: 'imagenet' }, Float32Array.from([1, 2, 3])],
      [{ id: '/p/b.jpg', size: 20, mtimeMs: 2 }, Float32Array.from([4, 5, 6])],
    ]);
    const rows = readdirSync(dir).filter((f) => f.endsWith('.f32'));
    expect(rows).toHaveLength(1);
    expect(readFileSync(join(dir, rows[0]!)).byteLength).toBe(2 * 3 * 4);
    const cache = await readFeatureCache(dir);
    expect(cachedFor(cache, { id: '/p/a.jpg', size: 10, mtimeMs: 1, model: 'imagenet' })).toEqual(Float32Array.from([1, 2, 3]));
    expect(cachedFor(cache, { id: '/p/b.jpg', size: 20, mtimeMs: 2 })).toEqual(Float32Array.from([4, 5, 6]));
    // Edited bytes (size or mtime) or other weights: the row no longer describes the photo.
    expect(cachedFor(cache, { id: '/p/a.jpg', size: 11, mtimeMs: 1 })).toBeUndefined();
    expect(cachedFor(cache, { id: '/p/a.jpg', size: 10, mtimeMs: 9 })).toBeUndefined();
    expect(cachedFor(cache, { id: '/p/a.jpg', size: 10, mtimeMs: 1, model: 'file:x.h5' })).toBeUndefined();
    // A second save replaces the generation; the old rows file goes.
    await writeFeatureCache(dir, [[{ id: '/p/a.jpg', size: 10, mtimeMs: 1 }, Float32Array.from([7, 8, 9])]]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.f32'))).toHaveLength(1);
    expect([...(await readFeatureCache(dir)).keys()]).toEqual(['/p/a.jpg']);
    // A rows file that does not match the map (torn write) gives an empty cache, never wrong rows.
    const current = readdirSync(dir).find((f) => f.endsWith('.f32'))!;
    writeFileSync(join(dir, current), new Uint8Array(5));
    expect((await readFeatureCache(dir)).size).toBe(0);
    writeFileSync(join(dir, 'features.json'), '{ broken');
    expect((await readFeatureCache(dir)).size).toBe(0);
  });

  it('does not rewrite the feature rows when no features changed', async () => {
    const dir = makeTempDir('xception-index-');
    const library = createLibraryModel(rules);
    library.upsert({ id: '/p/a.jpg', folder: '/p', name: 'a.jpg', size: 1, mtimeMs: 1, status: 'tagged', predictions: [], added: [], removed: [] });
    library.setFeatures('/p/a.jpg', Float32Array.from([1, 0]));
    const store = createIndexStore(dir);
    await store.save(library, ['/p']);
    const first = readdirSync(dir).find((f) => f.endsWith('.f32'));
    await store.save(library, ['/p']);
    expect(readdirSync(dir).find((f) => f.endsWith('.f32'))).toBe(first);
    library.setFeatures('/p/a.jpg', Float32Array.from([0, 1]));
    await store.save(library, ['/p']);
    expect(readdirSync(dir).find((f) => f.endsWith('.f32'))).not.toBe(first);
  });
});
