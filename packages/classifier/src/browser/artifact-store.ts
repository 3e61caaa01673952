import { openCacheStorageStore } from './cache-storage-store.js';
import { openIndexedDbStore } from './indexed-db-store.js';

/**
 * Where a model folder's files are kept between visits, keyed by each file's absolute URL.
 * Every method degrades instead of failing: a store that cannot be read answers "not kept"
 * (undefined), one that cannot be written or emptied (quota, private mode) does nothing, so a
 * broken store costs a download, never an error.
 */
export interface ArtifactStore {
  get(url: string): Promise<ArrayBuffer | undefined>;
  put(url: string, bytes: ArrayBuffer, type: string): Promise<void>;
  delete(url: string): Promise<void>;
}

/**
 * Cache Storage where the page has it (secure contexts: https, localhost), else IndexedDB
 * (which plain-http pages have too: a NAS at http://nas.local:8080), else null (download).
 */
export async function openArtifactStore(): Promise<ArtifactStore | null> {
  return (await openCacheStorageStore()) ?? (await openIndexedDbStore());
}
