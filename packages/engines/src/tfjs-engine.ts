import { decodedWeights, type EngineOptions, type InferenceEngine } from './engine.js';
import { activateBackend, createModelRunner } from './model-runner.js';

/** Inference in this thread: the native 'tensorflow' backend (tfjs-node) or pure-JS 'cpu'. */
export async function createInProcessEngine(backend: 'tensorflow' | 'cpu', options: EngineOptions, detail: string): Promise<InferenceEngine> {
  await activateBackend(backend);
  const runner = createModelRunner({ ...options, weights: await decodedWeights(options.weights) });
  return {
    name: backend === 'tensorflow' ? 'tfjs-node' : 'cpu',
    detail,
    parallelism: 1,
    run: (batch) => runner.run(batch),
    async dispose() {
      runner.dispose();
    },
  };
}
