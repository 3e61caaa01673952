// teachTag runs on tfjs-core; the main process (and the served shell's) may have no backend otherwise.
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBackendBanner } from '@xception/core';
import { teachTagCrossFitted, type TaughtTag } from '@xception/training';
import { TAUGHT_TAG_CLASS, taughtPredictionsFor, taughtTagExamples, type LibraryModel, type TaughtHeads as LibraryTaughtHeads } from '@xception/photo-library';
import { NotEnoughExamplesError } from './errors.js';

/** Fewer hand-tagged photos teach nothing a user would trust; one photo is "similar photos". */
export const MIN_POSITIVES = 2;
/**
 * Counter-examples each head trains on at most (evenly spread): keeps a 20,000-photo library's
 * training small (measured: 2 + 1000 photos, 30 epochs, ~9 s on one core; 500 halves it).
 */
const MAX_NEGATIVES_PER_HEAD = 500;
/** Training runs on the main thread: it gives the event loop (IPC, HTTP, the tagging queue) a turn after every epoch. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// The class number a taught tag's prediction carries is the photo library's (applyTaughtTag writes it).
export { TAUGHT_TAG_CLASS, taughtPredictionsFor };

/** A taught tag as the app keeps it: the photo library's TaughtHeads with @xception/training's heads. */
export type TaughtHeads = LibraryTaughtHeads<TaughtTag>;

/**
 * Teaches `tag` from the library's cached features (the photo library's taughtTagExamples: the
 * photos tagged `tag` by hand against every other photo of one model). Those counter-examples
 * are also the photos to suggest the tag for, so their scores must not come from a head that
 * trained on them (it learnt to say "no" to exactly them): the negatives are split in two halves,
 * one head per half, and each photo is scored by the head that never saw it (two-fold
 * cross-fitting, @xception/training's teachTagCrossFitted). This needs dense features, as
 * Xception's pooled ones are: a dimension that is zero throughout one half's training set is
 * scaled by Normalization's floor and would decide the other half's scores.
 */
export async function teachTagFromLibrary(library: LibraryModel, tag: string, seed = 0, currentModel: string | null = null): Promise<TaughtHeads> {
  const { model, positives, negatives, handTaggedWithoutFeatures, handTaggedByOtherWeights } = taughtTagExamples(library, tag, currentModel);
  if (positives.length < MIN_POSITIVES) {
    const waiting = handTaggedWithoutFeatures + handTaggedByOtherWeights;
    const why = handTaggedByOtherWeights === 0 ? 'no features yet' : handTaggedWithoutFeatures === 0 ? 'were tagged with other weights' : 'no features yet or were tagged with other weights';
    const pending = waiting > 0 ? ` (${waiting} more ha${waiting === 1 ? 's' : 've'} it but ${why}: press “Tag new photos” first)` : '';
    throw new NotEnoughExamplesError(`To teach “${tag}”, tag at least ${MIN_POSITIVES} photos “${tag}” by hand (Add a tag in the photo panel); ${positives.length} tagged photo${positives.length === 1 ? ' is' : 's are'} ready${pending}.`);
  }
  if (negatives.length < 2) {
    throw new NotEnoughExamplesError(`To teach “${tag}”, at least 2 photos without it must have been tagged by the model (press “Tag new photos”); ${negatives.length} ${negatives.length === 1 ? 'is' : 'are'} ready.`);
  }

  await silenceCpuBackendBanner(); // a small head on cpu on purpose: no "install tfjs-node" banner in the app's log
  const { heads, negativeScores } = await teachTagCrossFitted({
    positives, negatives: negatives.map((n) => n.features), seed, maxNegativesPerHead: MAX_NEGATIVES_PER_HEAD, onEpochEnd: yieldToEventLoop,
  });
  const scores = negatives.flatMap((n, i) => (n.removedByHand ? [] : [{ id: n.id, score: negativeScores[i]! }]));
  scores.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
  return { tag, autoApply: false, model, heads, positives: positives.length, negatives: negatives.length, scores };
}
