import type { ArtifactStore } from './artifact-store.js';

/**
 * The IndexedDB database that keeps model folders where Cache Storage is missing (pages on plain
 * http other than localhost); `indexedDB.deleteDatabase(CACHE_DB_NAME)` empties it.
 */
export const CACHE_DB_NAME = 'xception-classifier-v1';
/** Its one object store: key the file's absolute URL, value `{ bytes: ArrayBuffer, type: string }`. */
export const CACHE_DB_STORE = 'files';

interface StoredFile { bytes: ArrayBuffer; type: string }

/*
 * Hand-written rather than idb-keyval (6.3) or idb (8): three operations on one object store take
 * about twenty lines around IDBRequest here. idb-keyval's createStore/get/set/del would replace
 * roughly half of them, but it adds a dependency to every page's bundle for that, and its open
 * waits out a blocked open where this store gives up at once and lets the page download.
 */
const settled = <T>(request: IDBRequest<T>): Promise<T> => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

/** The model folder in IndexedDB; null where it is missing or cannot be opened (blocked, private mode, a sandboxed frame). */
export async function openIndexedDbStore(): Promise<ArtifactStore | null> {
  let db: IDBDatabase;
  try {
    db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open(CACHE_DB_NAME, 1);
      open.onupgradeneeded = () => open.result.createObjectStore(CACHE_DB_STORE);
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
      // Another tab holds an older version open: download rather than wait for it.
      open.onblocked = () => reject(new Error('blocked'));
    });
  } catch {
    return null;
  }
  // A page clearing the store (deleteDatabase) is not kept waiting by this connection.
  db.onversionchange = () => db.close();
  const run = async <T>(mode: IDBTransactionMode, act: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    // Relaxed: a cache may lose its last writes in a power cut (they are downloaded again), and need not wait for the disk.
    const tx = db.transaction(CACHE_DB_STORE, mode, { durability: 'relaxed' });
    // A write counts once the transaction commits (quota errors abort it there, after the request succeeded).
    const committed = new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = tx.onerror = () => reject(tx.error ?? new Error('aborted'));
    });
    const [result] = await Promise.all([settled(act(tx.objectStore(CACHE_DB_STORE))), committed]);
    return result;
  };
  return {
    get: async (url) => {
      const found = (await run('readonly', (s) => s.get(url) as IDBRequest<StoredFile | undefined>).catch(() => undefined));
      return found?.bytes instanceof ArrayBuffer ? found.bytes : undefined;
    },
    put: (url, bytes, type) => run('readwrite', (s) => s.put({ bytes, type } satisfies StoredFile, url)).then(() => undefined, () => undefined),
    delete: (url) => run('readwrite', (s) => s.delete(url)).then(() => undefined, () => undefined),
  };
}
