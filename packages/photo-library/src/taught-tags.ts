import { TAUGHT_TAG_CLASS } from './class-predictions.js';
import type { LibraryModel } from './library-model.js';
import type { Prediction } from './types.js';

/** A head taught on pooled features: one probability per photo (@xception/training's TaughtTag is one). */
export interface TagScorer {
  score(features: readonly Float32Array[]): ArrayLike<number>;
}

/** A tag taught from the library (the desktop's "Teach a tag"), as it is kept and applied. */
export interface TaughtHeads<Head extends TagScorer = TagScorer> {
  tag: string;
  /** Whether the tag is written (as a model tag) wherever it scores at least the threshold, photos tagged later included. */
  autoApply: boolean;
  /** The weights whose features the heads learnt from (a record's model id); other weights' features are not scored. */
  model: string | null;
  /** Two heads: each trained on the positives and one half of the negatives. */
  heads: readonly Head[];
  positives: number;
  negatives: number;
  /** Every photo with features that lacks the tag (and whose tag the user did not remove), best first. */
  scores: { id: string; score: number }[];
}

/** The library's examples of a tag, from one model's features (see taughtTagExamples). */
export interface TaughtTagExamples {
  /** The model whose photos take part. */
  model: string | null;
  /** The features of the photos tagged by hand. */
  positives: Float32Array[];
  /** Every other photo with features that does not carry the tag; the tag is suggested among these. */
  negatives: { id: string; features: Float32Array; removedByHand: boolean }[];
  /** Photos tagged by hand that cannot teach yet: no features, or another model's. */
  handTaggedWithoutFeatures: number;
  handTaggedByOtherWeights: number;
}

/**
 * The examples to teach `tag` from: the photos tagged `tag` by hand are the positives, every
 * other photo with features that does not carry the tag is a negative. Only the photos one
 * model tagged take part (`currentModel`, else the model most photos with features carry):
 * after a change of weights, photos not yet re-tagged hold the old model's features, which the
 * new ones do not match. Records are visited in path order, so the result is deterministic.
 */
export function taughtTagExamples(library: LibraryModel, tag: string, currentModel: string | null): TaughtTagExamples {
  const lower = tag.toLowerCase();
  const records = [...library.all()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const model = currentModel ?? mostCommonModel(records.filter((r) => library.features(r.id)).map((r) => r.model ?? null));
  const examples: TaughtTagExamples = { model, positives: [], negatives: [], handTaggedWithoutFeatures: 0, handTaggedByOtherWeights: 0 };
  for (const record of records) {
    const features = library.features(record.id);
    const otherWeights = features !== undefined && (record.model ?? null) !== model;
    if (record.added.some((t) => t.toLowerCase() === lower)) {
      if (!features) examples.handTaggedWithoutFeatures++;
      else if (otherWeights) examples.handTaggedByOtherWeights++;
      else examples.positives.push(features);
      continue;
    }
    if (!features || otherWeights || library.tagsOf(record).some((t) => t.name.toLowerCase() === lower)) continue;
    examples.negatives.push({ id: record.id, features, removedByHand: record.removed.some((t) => t.toLowerCase() === lower) });
  }
  return examples;
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
