import type { EngineChoice, Prediction, WeightsChoice } from '../shared/api.js';
import type { ClassifierLoadProgress } from './classifier.js';

/** Messages from the main process to the inference utility process. */
export type HostRequest =
  | { id: number; type: 'load'; engine: EngineChoice; weights: WeightsChoice }
  | { id: number; type: 'classify'; photo: string; topK: number }
  | { id: number; type: 'dispose' };

/** Replies (one per request) and load progress (any number before the reply). */
export type HostResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; message: string }
  | { id: number; progress: ClassifierLoadProgress };

export interface ClassifyReply {
  predictions: Prediction[];
  features: number[];
}
