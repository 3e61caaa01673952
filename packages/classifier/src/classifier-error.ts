/**
 * - ERR_CLASSIFIER_OPTIONS: an option of loadClassifier() or classify() is wrong.
 * - ERR_CLASSIFIER_WEIGHTS: the weights cannot be found, downloaded or read.
 * - ERR_CLASSIFIER_ENGINE: no engine (onnxruntime, tfjs backend) can run the model here.
 * - ERR_CLASSIFIER_INPUT: an input is not an image the classifier can read.
 * - ERR_CLASSIFIER_DISPOSED: the classifier was disposed.
 * - ERR_CLASSIFIER_INT8_AGREEMENT: precision 'int8' was refused: its model agrees with fp32 on under 98% of held-out photos.
 */
export type ClassifierErrorCode =
  | 'ERR_CLASSIFIER_OPTIONS'
  | 'ERR_CLASSIFIER_WEIGHTS'
  | 'ERR_CLASSIFIER_ENGINE'
  | 'ERR_CLASSIFIER_INPUT'
  | 'ERR_CLASSIFIER_DISPOSED'
  | 'ERR_CLASSIFIER_INT8_AGREEMENT';

/**
 * A typed failure of @xception/classifier, in the words of its options (`weights: …`,
 * `topK: …`, `input 2 of 3: …`); the lower-level error is kept as `cause`.
 */
export class ClassifierError extends Error {
  override readonly name = 'ClassifierError';
  constructor(readonly code: ClassifierErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The first line of an error's message, for wrapping it into one sentence. */
export function reasonOf(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.replace(/\.$/, '');
}
