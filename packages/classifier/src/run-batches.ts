import { ClassifierError, reasonOf } from './classifier-error.js';

/** Decoded images of one batch, NHWC uint8, and what the model gave for them. */
export interface BatchOutput {
  output: Float32Array;
  /** [rows, classes]. */
  outputShape: readonly number[];
  /** [rows, 2048]. */
  features: Float32Array;
}

export interface BatchRunner<Input> {
  /** Decodes one input to size x size RGB bytes. */
  decode(input: Input, index: number): Promise<Uint8Array>;
  /** Runs `count` images packed in `pixels`. */
  run(pixels: Uint8Array, count: number): Promise<BatchOutput>;
  size: number;
  batchSize: number;
  describe(input: Input): string;
}

/**
 * Runs inputs through the model `batchSize` at a time: each batch's images decode together,
 * then run in one call. An input that fails to decode rejects the call with its position.
 */
export async function runInBatches<Input, Row>(inputs: readonly Input[], runner: BatchRunner<Input>, rows: (out: BatchOutput, count: number) => Row[]): Promise<Row[]> {
  const results: Row[] = [];
  const pixelsPerImage = runner.size * runner.size * 3;
  for (let start = 0; start < inputs.length; start += runner.batchSize) {
    const batch = inputs.slice(start, start + runner.batchSize);
    const decoded = await Promise.all(batch.map(async (input, i) => {
      const index = start + i;
      try {
        return await runner.decode(input, index);
      } catch (error) {
        if (error instanceof ClassifierError) throw error;
        const where = inputs.length === 1 ? 'input' : `input ${index + 1} of ${inputs.length}`;
        throw new ClassifierError('ERR_CLASSIFIER_INPUT', `${where} (${runner.describe(input)}): ${reasonOf(error)}.`, { cause: error });
      }
    }));
    const pixels = new Uint8Array(batch.length * pixelsPerImage);
    decoded.forEach((p, i) => pixels.set(p, i * pixelsPerImage));
    results.push(...rows(await runner.run(pixels, batch.length), batch.length));
  }
  return results;
}

/** Splits the flat [rows, 2048] features into one Float32Array per image (copies, so each owns its memory). */
export function featureRows(features: Float32Array, count: number): Float32Array[] {
  const width = features.length / count;
  return Array.from({ length: count }, (_, i) => features.slice(i * width, (i + 1) * width));
}
