import type { KerasArchiveReading, XceptionWeightsReading } from '@xception/weights';

/**
 * The input size the source was saved with: a .keras archive's config, or a model.json's
 * InputLayer (a 71x71 model converts to a 71x71 one); null for weight-only files (.h5).
 */
export function savedInputShape(reading: XceptionWeightsReading): readonly [number | null, number | null, 3] | null {
  if ('savedConfig' in reading) return (reading as KerasArchiveReading).savedConfig.inputShape;
  const shape = reading.inputShape;
  return shape && shape[2] === 3 ? [shape[0], shape[1], 3] : null;
}
