import { listInputs } from '@xception/batch';
import { openModel } from '@xception/runtime';
import { CliError, EXIT } from '../cli-error.js';
import { withDownloadBar } from '../download-bar.js';

export interface QuantizeOptions {
  weights: string;
  calibrate: string;
  imageSize?: number;
  threads?: number;
}

/** Photos `xception quantize` calibrates on: fewer give ranges that miss what later photos hold; more cost time and gain nothing measurable. */
export const CALIBRATION_PHOTOS = { min: 64, max: 256 } as const;

/**
 * `xception quantize --weights W --calibrate DIR`: the int8 model of the weights, calibrated on
 * the photos of DIR (the first 256 in listing order), checked against fp32 on a quarter of them
 * held out, and cached where classify, embed, tag and predict `--precision int8` find it.
 */
export async function quantizeCommand(o: QuantizeOptions, say: (line: string) => void): Promise<number> {
  const paths: string[] = [];
  for await (const entry of listInputs([o.calibrate], { recursive: true })) {
    if (entry.ok) paths.push(entry.path);
    if (paths.length === CALIBRATION_PHOTOS.max) break;
  }
  if (paths.length < CALIBRATION_PHOTOS.min) {
    throw new CliError('ERR_USAGE', `--calibrate ${o.calibrate} holds ${paths.length} photos; int8 calibration takes ${CALIBRATION_PHOTOS.min} to ${CALIBRATION_PHOTOS.max} typical ones (a quarter of them held out to check agreement with fp32).`, EXIT.usage);
  }
  say(`calibrating int8 on ${paths.length} photos of ${o.calibrate}`);
  const opened = await withDownloadBar((onProgress) => openModel(o.weights, {
    precision: 'int8', calibration: paths, ...(o.imageSize ? { imageSize: o.imageSize } : {}), ...(o.threads ? { threads: o.threads } : {}), onProgress, log: say,
  }));
  await opened.dispose();
  say(`quantize: int8 model ready for --weights ${o.weights}${o.imageSize ? ` --image-size ${o.imageSize}` : ''}; run classify, embed, tag or predict with --precision int8`);
  return EXIT.ok;
}
