import type { Prediction } from '../shared/api.js';

/** One photo's result: top predictions and the pooled 2048-d features for similarity. */
export interface Classification {
  predictions: Prediction[];
  features: Float32Array;
  /** The grid's JPEG thumbnail, made from the decode the model's input came from (for the photos in classifyBatch's `thumbnails`). */
  thumbnail?: Uint8Array;
}

export interface ClassifierLoadProgress {
  loaded: number;
  total: number | null;
}

/**
 * What the tagging queue needs from inference. The real one (utility-classifier.ts) runs
 * Xception in an Electron utility process on @xception/engines (engine-classifier.ts); the
 * webgl one (renderer-classifier.ts) in the renderer; tests use stand-ins. Implementations read photos
 * read-only and throw per photo, never for the whole batch, when one photo is bad.
 */
export interface Classifier {
  /** Which weights produce the predictions (recorded in sidecars), e.g. 'imagenet'. */
  readonly modelId: string;
  /** Loads the model (downloading weights on first use); idempotent. */
  load(onProgress?: (progress: ClassifierLoadProgress) => void): Promise<void>;
  classify(photo: string, topK: number): Promise<Classification>;
  /**
   * Several photos in one forward pass, results in order; a bad photo is an Error in its
   * place. `next` names the photos of the batch that will follow, so that they can be decoded
   * while this one runs. `thumbnails` names the photos (of either) whose decode also makes the
   * grid's thumbnail: the ones the grid asked for; the others get none. Optional: without it the
   * queue calls classify() photo by photo.
   */
  classifyBatch?(photos: readonly string[], topK: number, next?: readonly string[], thumbnails?: readonly string[]): Promise<Array<Classification | Error>>;
  /** After load(), with precision 'int8': one line on the int8 model in use (calibrated now, or cached); null in fp32. */
  int8Note?(): string | null;
  dispose(): Promise<void>;
}

/** classifyBatch where the classifier has one, else classify() photo by photo. */
export async function classifyMany(classifier: Classifier, photos: readonly string[], topK: number, next: readonly string[] = [], thumbnails: readonly string[] = []): Promise<Array<Classification | Error>> {
  if (classifier.classifyBatch) return classifier.classifyBatch(photos, topK, next, thumbnails);
  const results: Array<Classification | Error> = [];
  for (const photo of photos) {
    results.push(await classifier.classify(photo, topK).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error)))));
  }
  return results;
}
