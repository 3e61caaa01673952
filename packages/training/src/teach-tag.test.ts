import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@xception/core';
import { useBackend } from '@xception/test-kit';
import { teachTag } from './index.js';

/** Seeded 64-d "photos": the tag shifts 8 of the dimensions; other photos are drawn afresh to be scored. */
const random = seededRandom(21);
const photo = (tagged: boolean): Float32Array => Float32Array.from({ length: 64 }, (_, i) => 3 + random() + (tagged && i < 8 ? 0.8 : 0));

describe('teachTag', () => {
  beforeAll(() => useBackend('cpu'));

  it('learns from 5 positives against 40 negatives and scores unseen photos, leaving no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const tag = await teachTag({ positives: Array.from({ length: 5 }, () => photo(true)), negatives: Array.from({ length: 40 }, () => photo(false)) });
    expect(tf.memory().numTensors).toBe(before);
    const withTag = tag.score(Array.from({ length: 20 }, () => photo(true)));
    const without = tag.score(Array.from({ length: 20 }, () => photo(false)));
    const right = withTag.filter((s) => s > 0.5).length + without.filter((s) => s < 0.5).length;
    expect(right / 40).toBeGreaterThanOrEqual(0.9);
    expect([...withTag, ...without].every((s) => s >= 0 && s <= 1)).toBe(true);
  });

  it('refuses a tag without negatives, and features of another length', async () => {
    await expect(teachTag({ positives: [photo(true)], negatives: [] })).rejects.toThrow(/at least one positive and one negative/);
    const tag = await teachTag({ positives: [photo(true)], negatives: [photo(false)], epochs: 1 });
    expect(() => tag.score([new Float32Array(3)])).toThrow(/taught on 64/);
  });
});
