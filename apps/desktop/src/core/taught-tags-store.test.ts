import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreTaughtTag } from '@xception/training';
import { afterAll, describe, expect, it } from 'vitest';
import { createTaughtTagsStore } from './taught-tags-store.js';
import type { TaughtHeads } from './tag-teacher.js';

const dir = mkdtempSync(join(tmpdir(), 'xception-taught-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A head whose kernel and bias are exact, awkward float32 values (not round decimals). */
function head(seed: number) {
  const kernel = new Float32Array(8).map((_, i) => Math.fround(Math.sin(seed + i) / 3));
  return restoreTaughtTag({ kernel, bias: new Float32Array([Math.fround(0.1 * seed), Math.fround(-1 / 3)]) });
}

describe('taught-tags.json', () => {
  it('gives back every taught tag with heads that score exactly as before', async () => {
    const store = createTaughtTagsStore(join(dir, 'a', 'taught-tags.json'));
    expect(await store.load()).toEqual([]); // never taught: no file, no error
    const taught: TaughtHeads = { tag: 'receipts', autoApply: true, model: 'imagenet', heads: [head(1), head(2)], positives: 3, negatives: 40, scores: [{ id: '/p/a.jpg', score: 0.75 }] };
    await store.save([taught]);
    const [back] = await store.load();
    expect(back).toMatchObject({ tag: 'receipts', autoApply: true, model: 'imagenet', positives: 3, negatives: 40, scores: [{ id: '/p/a.jpg', score: 0.75 }] });
    const probe = [new Float32Array([1, -2, 0.5, 3]), new Float32Array([0, 1, -1, 2])]; // the kernel is [4, 2]
    for (const k of [0, 1]) {
      expect(Array.from(back!.heads[k]!.weights.kernel)).toEqual(Array.from(taught.heads[k]!.weights.kernel));
      expect(back!.heads[k]!.score(probe)).toEqual(taught.heads[k]!.score(probe));
    }
  });

  it('a damaged file is set aside byte for byte, never overwritten by the next save', async () => {
    const path = join(dir, 'b', 'taught-tags.json');
    const store = createTaughtTagsStore(path);
    await store.save([]);
    const damaged = '{"version":1,"tags":[{"tag":"garden","autoApply":tr';
    writeFileSync(path, damaged);
    expect(await store.load()).toEqual([]);
    const aside = readdirSync(join(dir, 'b')).filter((f) => f.startsWith('taught-tags.json.unreadable-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(join(dir, 'b', aside[0]!), 'utf8')).toBe(damaged);
    await store.save([]);
    expect(readFileSync(join(dir, 'b', aside[0]!), 'utf8')).toBe(damaged);
  });
});
