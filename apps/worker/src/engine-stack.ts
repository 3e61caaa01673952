/**
 * The one place where `xception tag` reaches the engine stack. The engines are moving to
 * @xception/engines: at that merge only the two re-exports below change. classify's
 * run-images.ts opens its engine with the same lines as openClassifierEngine (left as it is
 * on this branch to keep the merge with the other changes to it small).
 */
import { loadWeightValues } from './load-weights.js';
import type { EngineChoice, InferenceEngine } from './engines/engine.js';
import { selectEngine } from './engines/select-engine.js';

export { ENGINE_CHOICES, type EngineChoice, type EngineResult, type InferenceEngine } from './engines/engine.js';

export interface ClassifierEngineOptions {
  /** `--weights`: 'imagenet', a file or URL, or 'none'. */
  weights: string;
  engine: EngineChoice;
  imageSize: number;
  threads?: number;
}

/** Loads the weights (with the classifier top) and opens the engine `--engine` names, logging auto's choice. */
export async function openClassifierEngine(o: ClassifierEngineOptions, log: (line: string) => void): Promise<InferenceEngine> {
  const weights = await loadWeightValues(o.weights, { includeTop: true });
  return selectEngine(o.engine, {
    model: { includeTop: true, inputShape: [o.imageSize, o.imageSize, 3], weights: o.weights === 'none' ? null : o.weights },
    weights,
    ...(o.threads ? { threads: o.threads } : {}),
  }, log);
}
