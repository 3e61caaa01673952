import type { Classification, Classifier, ClassifyOptions } from './classifier.js';
import { ClassifierError } from './classifier-error.js';
import { rankClasses } from '@xception/vision-utils';
import { checkTopK } from './check-top-k.js';
import { featureRows, runInBatches, type BatchRunner } from './run-batches.js';

export interface ClassifierParts<Input> {
  runner: BatchRunner<Input>;
  classes: number;
  classNames: readonly string[] | null;
  engine: string;
  /** Whether a value is one input rather than an array of them (a Uint8Array is one input). */
  isArray(value: unknown): value is readonly Input[];
  release(): Promise<void>;
}

/** The Classifier both entries return, over their own decoding and engine. */
export function createClassifier<Input>(parts: ClassifierParts<Input>): Classifier<Input> {
  let disposed = false;
  const live = (method: string): void => {
    if (disposed) throw new ClassifierError('ERR_CLASSIFIER_DISPOSED', `classifier.${method}: this classifier was disposed; call loadClassifier() again.`);
  };
  const asList = (input: Input | readonly Input[]): { list: readonly Input[]; single: boolean } => {
    if (parts.isArray(input)) {
      if (input.length === 0) throw new ClassifierError('ERR_CLASSIFIER_INPUT', 'the array of inputs is empty; pass at least one image.');
      return { list: input, single: false };
    }
    return { list: [input as Input], single: true };
  };

  async function classify(input: Input | readonly Input[], options: ClassifyOptions = {}): Promise<Classification[] | Classification[][]> {
    live('classify');
    const topK = checkTopK(options.topK, parts.classes);
    const { list, single } = asList(input);
    const rows = await runInBatches(list, parts.runner, (out, count) => rankClasses({ data: out.output, rows: count, classes: parts.classes, classNames: parts.classNames }, topK));
    return single ? rows[0]! : rows;
  }

  async function embed(input: Input | readonly Input[]): Promise<Float32Array | Float32Array[]> {
    live('embed');
    const { list, single } = asList(input);
    const rows = await runInBatches(list, parts.runner, (out, count) => featureRows(out.features, count));
    return single ? rows[0]! : rows;
  }

  return {
    classify: classify as Classifier<Input>['classify'],
    embed: embed as Classifier<Input>['embed'],
    engine: parts.engine,
    imageSize: parts.runner.size,
    classes: parts.classes,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await parts.release();
    },
  };
}

/** Checks batchSize, in the option's words. */
export function checkBatchSize(batchSize: unknown): number {
  if (batchSize === undefined) return 8;
  if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize < 1) {
    throw new ClassifierError('ERR_CLASSIFIER_OPTIONS', `loadClassifier: batchSize must be a positive integer; got ${JSON.stringify(batchSize) ?? String(batchSize)}.`);
  }
  return batchSize;
}
