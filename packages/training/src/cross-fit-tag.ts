import { teachTag, type TaughtTag, type TeachTagOptions } from './teach-tag.js';

export interface CrossFitTagOptions extends TeachTagOptions {
  /** Counter-examples each head trains on at most, spread evenly over its half. Default: all of them. */
  maxNegativesPerHead?: number;
}

export interface CrossFittedTag {
  /** Head k trained on the positives and the negatives at even (k = 0) or odd (k = 1) positions. */
  heads: readonly [TaughtTag, TaughtTag];
  /** Each negative's score, in the order given, from the head that never trained on it. */
  negativeScores: number[];
}

/**
 * "Teach a tag" when the counter-examples are also the photos to suggest the tag for: a head
 * that trained on a photo learnt to say "no" to exactly it, so the negatives are split in two
 * halves (alternately), one head per half, and each negative is scored by the other half's head
 * (two-fold cross-fitting). Needs dense features, as Xception's pooled ones are: a dimension
 * that is zero throughout one half's training set is scaled by Normalization's floor and would
 * decide the other half's scores. At least one negative per half.
 */
export async function teachTagCrossFitted(options: CrossFitTagOptions): Promise<CrossFittedTag> {
  const { negatives, maxNegativesPerHead = Number.POSITIVE_INFINITY, ...teach } = options;
  if (negatives.length < 2) throw new RangeError(`teachTagCrossFitted needs at least two negative examples, one per head; got ${negatives.length}.`);
  const halves = [negatives.filter((_, i) => i % 2 === 0), negatives.filter((_, i) => i % 2 === 1)] as const;
  const heads: TaughtTag[] = [];
  for (const half of halves) {
    const stride = Math.max(1, half.length / maxNegativesPerHead);
    const sample = Array.from({ length: Math.min(half.length, maxNegativesPerHead) }, (_, i) => half[Math.floor(i * stride)]!);
    heads.push(await teachTag({ ...teach, negatives: sample }));
  }
  const byHalf = halves.map((half, k) => heads[1 - k]!.score(half));
  return { heads: [heads[0]!, heads[1]!], negativeScores: negatives.map((_, i) => byHalf[i % 2]![Math.floor(i / 2)]!) };
}
