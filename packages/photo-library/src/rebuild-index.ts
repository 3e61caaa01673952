import type { IndexStore } from './index-store.js';
import type { LibraryRecords } from './library-records.js';
import { reconcileFolder } from './reconcile-scan.js';
import type { ScanOptions } from './scanner.js';

/**
 * Forgets every record and reads each photo's tags back from its sidecar (the index is a cache
 * of the sidecars), then saves the index. Features survive when the photo is unchanged: those
 * computed in this session and not saved yet, then the rest from the feature cache beside the
 * index (sidecars do not carry features). A photo whose bytes changed loses its stale features.
 */
export async function rebuildIndex(library: LibraryRecords, folders: readonly string[], store: IndexStore, options: ScanOptions = {}): Promise<void> {
  const kept = new Map<string, { size: number; mtimeMs: number; values: Float32Array }>();
  for (const record of library.all()) {
    const values = library.features(record.id);
    if (values) kept.set(record.id, { size: record.size, mtimeMs: record.mtimeMs, values });
  }
  for (const record of [...library.all()]) library.remove(record.id);
  for (const folder of folders) await reconcileFolder(library, folder, options);
  for (const record of library.all()) {
    const old = kept.get(record.id);
    if (old && old.size === record.size && old.mtimeMs === record.mtimeMs) library.setFeatures(record.id, old.values);
  }
  await store.restoreFeatures(library);
  await store.save(library, folders);
}
