import type { Precision, Prediction, WeightsChoice } from '../shared/api.js';
import type { ClassifierLoadProgress } from './classifier.js';
import type { UtilityEngineChoice } from './engine-classifier.js';

/** Messages from the main process to the inference utility process. */
export type HostRequest =
  | {
    id: number; type: 'load'; engine: UtilityEngineChoice;
    /** null: seeded random weights at `imageSize` (tests and benchmarks only). */
    weights: WeightsChoice | null; random?: { seed?: number }; imageSize?: number;
    /** The results of the photos a classify request names in `thumbnails` carry the photo's thumbnail from its decode (engine-classifier's thumbnailSize). */
    thumbnailSize?: number;
    /** int8: onnxruntime's int8 kernels on a model calibrated on `calibrationPhotos` (or a cached one). */
    precision?: Precision; calibrationPhotos?: string[];
  }
  /**
   * One batch; `next` is the batch that will follow, decoded ahead while this one runs;
   * `thumbnails`: the photos (of either) whose decode also makes the grid's thumbnail.
   */
  | { id: number; type: 'classify'; photos: string[]; topK: number; next: string[]; thumbnails: string[] }
  | { id: number; type: 'dispose' };

/** Replies (one per request) and load progress (any number before the reply). */
export type HostResponse =
  | { id: number; ok: true; result: unknown }
  /** `code`: the DesktopError's, when the host threw one (the precision setting's fallback needs it). */
  | { id: number; ok: false; message: string; code?: string }
  | { id: number; progress: ClassifierLoadProgress };

/** One photo of a classify reply: features as plain numbers (structured clone of any kind carries them). */
export type ClassifyReplyItem = { predictions: Prediction[]; features: number[]; thumbnail?: number[] } | { error: string };

export interface ClassifyReply {
  items: ClassifyReplyItem[];
}

export interface LoadReply {
  /** The loaded weights' id (engine-classifier's modelIdOf: a file's name and hash). */
  modelId: string;
  /** The engine's own description: 'onnx (onnxruntime-node 1.30.0, cpu, 2 threads; …), in a worker thread'. */
  backend: string;
  /** Why 'auto' passed engines over, one line each. */
  notes: string[];
  /** With precision int8: the int8 model's one line (engine-classifier's int8Note). */
  int8Note: string | null;
}
