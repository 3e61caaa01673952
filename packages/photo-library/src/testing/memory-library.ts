import type { LibraryRecords } from '../library-records.js';
import type { PhotoRecord } from '../types.js';

/** A plain in-memory LibraryRecords for tests of the library operations: records and features as given. */
export function createMemoryLibrary(): LibraryRecords {
  const records = new Map<string, PhotoRecord>();
  const features = new Map<string, Float32Array>();
  return {
    get: (id) => records.get(id),
    all: () => records.values(),
    upsert: (record) => void records.set(record.id, record),
    remove(id) {
      records.delete(id);
      features.delete(id);
    },
    features: (id) => features.get(id),
    setFeatures: (id, values) => void (values ? features.set(id, values) : features.delete(id)),
  };
}
