import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { cachedFor, readFeatureCache, writeFeatureCache, type FeatureKey } from './feature-cache.js';
import type { PhotoRecord } from './types.js';

/** What the index store needs of the in-memory library (the desktop's LibraryModel is one). */
export interface IndexedLibrary {
  all(): Iterable<PhotoRecord>;
  upsert(record: PhotoRecord): void;
  features(id: string): Float32Array | undefined;
  setFeatures(id: string, features: Float32Array | null): void;
}

/**
 * The local index: `index.json` (folders and photo records) and the feature cache
 * (`features.json` + `features-<generation>.f32`, see feature-cache.ts: pooled features for
 * "similar photos", keyed by path, size and mtime), in the app's data folder. It is a cache:
 * everything in index.json can be rebuilt from the sidecars (rebuildIndex, rebuild-index.ts),
 * and the features of unchanged photos come back from the feature cache. A JSON file rather than sqlite: no native
 * module to build, and 20,000 records load in well under a second.
 */
export interface IndexStore {
  /** Loads folders and records, then the cached features of the records that still match. */
  load(library: IndexedLibrary): Promise<{ folders: string[]; ok: boolean }>;
  save(library: IndexedLibrary, folders: readonly string[]): Promise<void>;
  /**
   * Gives every record without features its cached row when the photo's size and mtime
   * still match (after a rebuild from sidecars); returns how many were restored.
   */
  restoreFeatures(library: IndexedLibrary): Promise<number>;
}

interface IndexFile {
  version: 1;
  photos: PhotoRecord[];
}

function isRecord(value: unknown): value is PhotoRecord {
  const r = value as PhotoRecord;
  return (
    typeof r === 'object' && r !== null && typeof r.id === 'string' && typeof r.folder === 'string' && typeof r.name === 'string' &&
    typeof r.size === 'number' && typeof r.mtimeMs === 'number' && Array.isArray(r.predictions) && Array.isArray(r.added) && Array.isArray(r.removed)
  );
}

export function createIndexStore(dir: string): IndexStore {
  const indexPath = join(dir, 'index.json');
  // What the feature cache on disk holds (same arrays, same keys): unchanged means no rewrite,
  // which matters at 20,000 photos x 8 KiB.
  let written: Map<string, { key: FeatureKey; values: Float32Array }> | null = null;
  const keyOf = (record: PhotoRecord): FeatureKey => ({ id: record.id, size: record.size, mtimeMs: record.mtimeMs, model: record.model });
  const restore = async (library: IndexedLibrary): Promise<number> => {
    const cache = await readFeatureCache(dir);
    let restored = 0;
    for (const record of library.all()) {
      if (library.features(record.id)) continue;
      const values = cachedFor(cache, keyOf(record));
      if (values) {
        library.setFeatures(record.id, values);
        restored++;
      }
    }
    return restored;
  };
  // The folder list is the user's choice, not a cache: its own small file, so that a broken
  // index.json still knows which folders to rebuild from.
  const foldersPath = join(dir, 'folders.json');
  return {
    async load(library) {
      const folders = await readFile(foldersPath, 'utf8').then(
        (text) => {
          const list = JSON.parse(text) as unknown;
          return Array.isArray(list) ? list.filter((f): f is string => typeof f === 'string') : [];
        },
        () => [] as string[],
      ).catch(() => [] as string[]);
      let parsed: IndexFile;
      try {
        parsed = JSON.parse(await readFile(indexPath, 'utf8')) as IndexFile;
      } catch (error) {
        // Missing is a first start; unreadable means rebuild from the sidecars (ok: false).
        return { folders, ok: (error as NodeJS.ErrnoException).code === 'ENOENT' && folders.length === 0 };
      }
      if (parsed?.version !== 1 || !Array.isArray(parsed.photos)) return { folders, ok: false };
      for (const record of parsed.photos) if (isRecord(record)) library.upsert(record);
      await restore(library);
      return { folders, ok: true };
    },
    async save(library, folders) {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(foldersPath, JSON.stringify(folders, null, 2));
      const file: IndexFile = { version: 1, photos: [...library.all()] };
      await writeFileAtomic(indexPath, JSON.stringify(file));
      const now = new Map<string, { key: FeatureKey; values: Float32Array }>();
      for (const record of library.all()) {
        const values = library.features(record.id);
        if (values) now.set(record.id, { key: keyOf(record), values });
      }
      const same = (a: FeatureKey, b: FeatureKey): boolean => a.size === b.size && a.mtimeMs === b.mtimeMs && a.model === b.model;
      const unchanged = written !== null && written.size === now.size && [...now].every(([id, e]) => {
        const before = written!.get(id);
        return before !== undefined && before.values === e.values && same(before.key, e.key);
      });
      if (!unchanged) {
        await writeFeatureCache(dir, [...now.values()].map((e) => [e.key, e.values] as [FeatureKey, Float32Array]));
        written = now;
      }
    },
    restoreFeatures: restore,
  };
}
