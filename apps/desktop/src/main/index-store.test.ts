import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLibraryModel } from '../shared/library-model.js';
import { createIndexStore, decodeFeatures, encodeFeatures } from './index-store.js';

const rules = { threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' as const };

describe('index store', () => {
  it('round-trips records, folders and features (non-ASCII paths too)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xception-index-'));
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

  it('a truncated features file keeps the whole entries', () => {
    const bytes = encodeFeatures([['/a', Float32Array.from([1, 2, 3])], ['/b', Float32Array.from([4, 5, 6])]]);
    const decoded = decodeFeatures(bytes.subarray(0, bytes.length - 3));
    expect([...decoded.keys()]).toEqual(['/a']);
    expect(decodeFeatures(new Uint8Array([1, 2, 3]))).toEqual(new Map());
  });
});
