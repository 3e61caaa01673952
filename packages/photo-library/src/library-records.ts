import type { IndexedLibrary } from './index-store.js';
import type { PhotoRecord } from './types.js';

/**
 * The in-memory library the library operations (reconcileFolder, rebuildIndex) read and
 * change: the records by photo path and their features. The desktop's LibraryModel is one;
 * the caller owns it and saves it with the index store.
 */
export interface LibraryRecords extends IndexedLibrary {
  get(id: string): PhotoRecord | undefined;
  remove(id: string): void;
}
