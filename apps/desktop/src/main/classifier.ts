import type { Prediction } from '../shared/api.js';

/** One photo's result: top predictions and the pooled 2048-d features for similarity. */
export interface Classification {
  predictions: Prediction[];
  features: Float32Array;
}

export interface ClassifierLoadProgress {
  loaded: number;
  total: number | null;
}

/**
 * What the tagging queue needs from inference. The real one (utility-classifier.ts) runs
 * Xception in an Electron utility process; tests use stand-ins. Implementations read photos
 * read-only and throw per photo, never for the whole batch, when one photo is bad.
 */
export interface Classifier {
  /** Which weights produce the predictions (recorded in sidecars), e.g. 'imagenet'. */
  readonly modelId: string;
  /** Loads the model (downloading weights on first use); idempotent. */
  load(onProgress?: (progress: ClassifierLoadProgress) => void): Promise<void>;
  classify(photo: string, topK: number): Promise<Classification>;
  dispose(): Promise<void>;
}
