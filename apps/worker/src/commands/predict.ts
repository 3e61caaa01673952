import { CliError, EXIT } from '../cli-error.js';
import type { EngineChoice } from '../engines/engine.js';
import { selectEngine } from '../engines/select-engine.js';
import { loadWeightValues } from '../load-weights.js';
import { readNpy, writeNpy } from '../output/npy.js';

export interface PredictOptions {
  weights: string;
  input: string;
  output: string;
  top: boolean;
  pooling?: 'avg' | 'max';
  engine: EngineChoice;
  features?: string;
}

/**
 * The raw model output for a float32 NHWC tensor (already preprocessed), for parity checks
 * against Keras: `np.save('x.npy', xception.preprocess_input(x))`, then compare the outputs.
 */
export async function predictCommand(o: PredictOptions, log: (line: string) => void): Promise<number> {
  const x = await readNpy(o.input);
  if (x.shape.length !== 4 || x.shape[3] !== 3) {
    throw new CliError('ERR_USAGE', `${o.input} has shape (${x.shape.join(', ')}); predict expects float32 NHWC images (N, height, width, 3) preprocessed to [-1, 1].`, EXIT.usage);
  }
  if (o.top && o.pooling) throw new CliError('ERR_USAGE', '--pooling applies only with --no-top, as in Keras.', EXIT.usage);
  const [n, h, w] = x.shape as [number, number, number, 3];
  const weights = await loadWeightValues(o.weights, { includeTop: o.top });
  const engine = await selectEngine(o.engine, {
    model: { includeTop: o.top, inputShape: [h, w, 3], pooling: o.pooling ?? null, weights: o.weights === 'none' ? null : o.weights },
    weights,
    threads: 1,
  }, log);
  try {
    const result = await engine.run({ pixels: x.data, count: n, height: h, width: w });
    await writeNpy(o.output, { data: result.output, shape: result.outputShape });
    if (o.features) await writeNpy(o.features, { data: result.features, shape: [n, 2048] });
    log(`predict: (${x.shape.join(', ')}) → (${result.outputShape.join(', ')}) in ${o.output} (engine ${engine.detail})`);
    return EXIT.ok;
  } finally {
    await engine.dispose();
  }
}
