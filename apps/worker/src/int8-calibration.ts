import { listInputs } from '@xception/batch';
import { decodeCalibrationPhotos, type CalibrationSource } from '@xception/runtime';

/** Inputs `--precision int8` calibrates on when no int8 model of the weights is cached (of the 64 to 256 `xception quantize` takes). */
export const CALIBRATE_ON_FIRST = 64;

/**
 * int8's calibration from the run's own first inputs (files, folders, globs; standard input is
 * not read twice, so '-' gives none), decoded only when no calibrated model is cached, with one
 * line saying so.
 */
export function calibrateOnFirstInputs(specs: readonly string[], recursive: boolean, say: (line: string) => void): CalibrationSource {
  return async (shape) => {
    const paths: string[] = [];
    for await (const entry of listInputs(specs.filter((s) => s !== '-'), { recursive })) {
      if (entry.ok) paths.push(entry.path);
      if (paths.length === CALIBRATE_ON_FIRST) break;
    }
    say(`calibrating int8 on the first ${paths.length} inputs (no calibrated model of these weights is cached; \`xception quantize --calibrate DIR\` makes one)`);
    return decodeCalibrationPhotos(paths, shape);
  };
}

/** int8's calibration from the first images of a preprocessed NHWC tensor (predict's .npy input). */
export function calibrateOnTensor(data: Float32Array, count: number, say: (line: string) => void): CalibrationSource {
  return async ([height, width]) => {
    const n = Math.min(count, CALIBRATE_ON_FIRST);
    say(`calibrating int8 on the first ${n} inputs (no calibrated model of these weights is cached)`);
    return { pixels: data.slice(0, n * height * width * 3), count: n, height, width };
  };
}
