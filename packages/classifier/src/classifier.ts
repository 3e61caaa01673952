import type { ProgressEvent } from '@xception/weights';

/** One ranked class for one image. `wnid` is null for weights with other classes than ImageNet's. */
export interface Classification {
  readonly index: number;
  readonly wnid: string | null;
  readonly label: string;
  readonly score: number;
}

export interface ClassifyOptions {
  /** Classes per image, highest score first. Default 5. */
  topK?: number;
}

/** What loadClassifier() returns; every method works on one input or an array of them. */
export interface Classifier<Input> {
  /** The top classes of one image, or one list per image for an array (run in batches). */
  classify(input: Input, options?: ClassifyOptions): Promise<Classification[]>;
  classify(inputs: readonly Input[], options?: ClassifyOptions): Promise<Classification[][]>;
  /** The pooled 2048-d features (Keras' `pooling='avg'` output) of one image, or one per image. */
  embed(input: Input): Promise<Float32Array>;
  embed(inputs: readonly Input[]): Promise<Float32Array[]>;
  /** Where inference runs, for people: 'onnx (onnxruntime-node 1.30.0, cpu, 2 threads; …)'. */
  readonly engine: string;
  /** The model's input side (299 for ImageNet weights). */
  readonly imageSize: number;
  /** Number of classes of the weights' classifier. */
  readonly classes: number;
  /** Frees the model and the engine; later calls reject with ERR_CLASSIFIER_DISPOSED. */
  dispose(): Promise<void>;
}

/** Options both entries share. */
export interface CommonClassifierOptions {
  /** Images per model run when an array is given. Default 8. */
  batchSize?: number;
  /** Download and read progress of the weights. */
  onProgress?: (event: ProgressEvent) => void;
}

export type { ProgressEvent };
