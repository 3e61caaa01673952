// teachTag runs on tfjs-core; the main process (and the served shell's) may have no backend otherwise.
import '@tensorflow/tfjs-backend-cpu';
import { silenceCpuBackendBanner } from '@xception/core';
import { teachTagCrossFitted, type TaughtTag } from '@xception/training';
import type { Prediction } from '../shared/api.js';
import type { LibraryModel } from './library-model.js';
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
import { TAUGHT_TAG_CLASS } from '@xception/photo-library';
export { TAUGHT_TAG_CLASS };

export interface TaughtHeads {
  tag: string;
  /** Whether the tag is written (as a model tag) wherever it scores at least the threshold, photos tagged later included. */
  autoApply: boolean;
  /** The weights whose features the heads learnt from (a record's model id); other weights' features are not scored. */
  model: string | null;
  /** Two heads: each trained on the positives and one half of the negatives. */
  heads: readonly TaughtTag[];
  positives: number;
  negatives: number;
  /** Every photo with features that lacks the tag (and whose tag the user did not remove), best first. */
  scores: { id: string; score: number }[];
}

/**
 * Teaches `tag` from the library's cached features: the photos tagged `tag` by hand are the
 * examples, every other photo with features that does not carry the tag is a counter-example.
 * Those counter-examples are also the photos to suggest the tag for, so their scores must not
 * come from a head that trained on them (it learnt to say "no" to exactly them): the negatives
 * are split in two halves, one head per half, and each photo is scored by the head that never
 * saw it (two-fold cross-fitting). This needs dense features, as Xception's pooled ones are: a
 * dimension that is zero throughout one half's training set is scaled by Normalization's floor
 * and would decide the other half's scores. Only the photos one model tagged take part
 * (`currentModel`, the app's weights, else the model most photos carry): after a change of
 * weights, photos not yet re-tagged hold the old model's features, which the new ones do not match.
 */
export async function teachTagFromLibrary(library: LibraryModel, tag: string, seed = 0, currentModel: string | null = null): Promise<TaughtHeads> {
  const lower = tag.toLowerCase();
  const records = [...library.all()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  // Two models' features are not comparable: learn from one model's photos only, the app's
  // current weights when known, else the weights most photos with features were tagged by.
  const model = currentModel ?? mostCommonModel(records.filter((r) => library.features(r.id)).map((r) => r.model ?? null));
  const positives: Float32Array[] = [];
  let handTaggedWithoutFeatures = 0;
  let handTaggedByOtherWeights = 0;
  const negatives: { id: string; features: Float32Array; removedByHand: boolean }[] = [];
  for (const record of records) {
    const features = library.features(record.id);
    const byHand = record.added.some((t) => t.toLowerCase() === lower);
    const otherWeights = features !== undefined && (record.model ?? null) !== model;
    if (byHand) {
      if (!features) handTaggedWithoutFeatures++;
      else if (otherWeights) handTaggedByOtherWeights++;
      else positives.push(features);
      continue;
    }
    if (!features || otherWeights || library.tagsOf(record).some((t) => t.name.toLowerCase() === lower)) continue;
    negatives.push({ id: record.id, features, removedByHand: record.removed.some((t) => t.toLowerCase() === lower) });
  }
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

/** The model id most of `models` are (ties: the first seen); null for none. */
function mostCommonModel(models: readonly (string | null)[]): string | null {
  const counts = new Map<string | null, number>();
  for (const m of models) counts.set(m, (counts.get(m) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  for (const [m, n] of counts) if (n > bestCount) [best, bestCount] = [m, n];
  return best;
}

/** What taughtPredictionsFor needs to know about one photo. */
export interface PhotoForTaughtTags {
  id: string;
  added: readonly string[];
  removed: readonly string[];
}

/**
 * The taught tags a photo gets from its (new) features, as model predictions: each auto-applied
 * tag taught on these weights' features, unless the photo has it by hand or had it removed by
 * hand, when it scores at least `threshold`. A photo scored when the tag was taught keeps that
 * score (from the head that never trained on it); any other photo gets the two heads' mean.
 */
export function taughtPredictionsFor(taught: Iterable<TaughtHeads>, photo: PhotoForTaughtTags, features: Float32Array, model: string, threshold: number): Prediction[] {
  const predictions: Prediction[] = [];
  for (const heads of taught) {
    const lower = heads.tag.toLowerCase();
    if (!heads.autoApply || heads.model !== model) continue;
    if (photo.added.some((t) => t.toLowerCase() === lower) || photo.removed.some((t) => t.toLowerCase() === lower)) continue;
    const known = heads.scores.find((s) => s.id === photo.id)?.score;
    const score = known ?? heads.heads.reduce((sum, head) => sum + head.score([features])[0]!, 0) / heads.heads.length;
    if (score >= threshold) predictions.push({ index: TAUGHT_TAG_CLASS, label: heads.tag, score });
  }
  return predictions;
}
