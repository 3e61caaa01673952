/**
 * How `xception tag` opens @xception/engines: the weights with the classifier top, and the
 * engine `--engine` names, with errors in flag words (select-cli-engine.ts).
 */
import { imageSizeFor, loadClassifierWeights, type ClassifierWeights } from './class-names.js';
import type { EngineChoice, InferenceEngine } from '@xception/engines';
import { selectEngine } from './select-cli-engine.js';

export { ENGINE_CHOICES, type EngineChoice, type EngineResult, type InferenceEngine } from '@xception/engines';

export interface ClassifierEngineOptions {
  /** `--weights`: 'imagenet', a file or URL, or 'none'. */
  weights: string;
  engine: EngineChoice;
  /** --image-size; absent: the weights' saved size, else 299. */
  imageSize?: number;
  threads?: number;
}

/**
 * Loads the weights (with the classifier top: ImageNet's, or a trained .keras archive's classes)
 * and opens the engine `--engine` names, logging auto's choice.
 */
export async function openClassifierEngine(o: ClassifierEngineOptions, log: (line: string) => void): Promise<{ engine: InferenceEngine; classifier: ClassifierWeights; imageSize: number }> {
  // Not decoded here: the onnx engine's cache hit needs only the file's hash.
  const classifier = await loadClassifierWeights(o.weights, { defer: true });
  const imageSize = imageSizeFor(o.imageSize, classifier);
  const engine = await selectEngine(o.engine, {
    model: { includeTop: true, classes: classifier.classes, inputShape: [imageSize, imageSize, 3], weights: o.weights === 'none' ? null : o.weights },
    weights: classifier.values,
    ...(o.threads ? { threads: o.threads } : {}),
  }, log);
  return { engine, classifier, imageSize };
}
