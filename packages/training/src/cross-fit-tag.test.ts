import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '@xception/core';
import { useBackend } from '@xception/test-kit';
import { teachTag, teachTagCrossFitted } from './index.js';

/** Seeded 64-d "photos": the tag shifts 8 of the dimensions. */
const random = seededRandom(8);
const photo = (tagged: boolean): Float32Array => Float32Array.from({ length: 64 }, (_, i) => 3 + random() + (tagged && i < 8 ? 0.8 : 0));

describe('teachTagCrossFitted', () => {
  beforeAll(() => useBackend('cpu'));
  const positives = Array.from({ length: 4 }, () => photo(true));
  const negatives = Array.from({ length: 9 }, () => photo(false));

  it('scores each negative by the head trained on the other half: the heads are teachTag on each half', async () => {
    const fitted = await teachTagCrossFitted({ positives, negatives, seed: 2, epochs: 5 });
    const even = await teachTag({ positives, negatives: negatives.filter((_, i) => i % 2 === 0), seed: 2, epochs: 5 });
    const odd = await teachTag({ positives, negatives: negatives.filter((_, i) => i % 2 === 1), seed: 2, epochs: 5 });
    expect(fitted.heads[0].weights).toEqual(even.weights);
    expect(fitted.heads[1].weights).toEqual(odd.weights);
    const expected = negatives.map((n, i) => (i % 2 === 0 ? odd : even).score([n])[0]);
    expect(fitted.negativeScores).toEqual(expected);
  });

  it('trains each head on at most maxNegativesPerHead negatives, spread evenly over its half', async () => {
    const fitted = await teachTagCrossFitted({ positives, negatives, seed: 1, epochs: 3, maxNegativesPerHead: 2 });
    // Halves of 5 (positions 0 2 4 6 8) and 4 (1 3 5 7): strides 2.5 and 2 pick 0 and 4, then 1 and 5.
    const first = await teachTag({ positives, negatives: [negatives[0]!, negatives[4]!], seed: 1, epochs: 3 });
    const second = await teachTag({ positives, negatives: [negatives[1]!, negatives[5]!], seed: 1, epochs: 3 });
    expect(fitted.heads[0].weights).toEqual(first.weights);
    expect(fitted.heads[1].weights).toEqual(second.weights);
  });

  it('refuses fewer than two negatives', async () => {
    await expect(teachTagCrossFitted({ positives, negatives: [photo(false)] })).rejects.toThrow(/at least two negative examples, one per head; got 1/);
  });
});
