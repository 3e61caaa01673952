import type { KerasArchiveReading } from './keras-archive.js';
import type { XceptionWeightsReading } from './keras-h5.js';

/**
 * The input shape a reading's file was saved with: a .keras archive's config, or a tfjs
 * model.json's InputLayer; null for files that do not record one (.h5). What converters keep and
 * what classifiers run at when no size is given.
 */
export function savedInputShape(reading: XceptionWeightsReading): readonly [number | null, number | null, 3] | null {
  if ('savedConfig' in reading) return (reading as KerasArchiveReading).savedConfig.inputShape;
  const shape = reading.inputShape;
  return shape && shape[2] === 3 ? [shape[0], shape[1], 3] : null;
}
