import type { CreateXceptionOptions, WeightValues } from '@xception/core';
import { prepareInt8Model, type DeferredWeights, type Int8ModelFile } from '@xception/engines';
import type { CalibrationImages, CalibrationMethod } from '@xception/onnx';
import { preprocessInput } from '@xception/vision-utils';
import { decodeInput } from './image-pipeline.js';
import { reasonOf, RuntimeError } from './runtime-error.js';

/** Inference precision: 'fp32' (the default everywhere) or 'int8' (onnxruntime's int8 kernels on a calibrated QDQ model, CPU). */
export type Precision = 'fp32' | 'int8';
export const PRECISION_CHOICES: readonly Precision[] = ['fp32', 'int8'];

/** An int8 model whose top-1 class agrees with fp32's on fewer held-out photos than this is refused. */
export const INT8_MIN_TOP1_AGREEMENT = 0.98;

/**
 * Where int8's calibration photos come from: image files (paths), or a function that decodes
 * them at the model's input size, called only when no int8 model of the weights is cached (the
 * CLI decodes the run's first inputs then).
 */
export type CalibrationSource = readonly string[] | ((inputShape: readonly [number, number]) => Promise<CalibrationImages>);

export interface Int8Options {
  calibration?: CalibrationSource;
  method?: CalibrationMethod;
  cacheDir?: string;
  threads?: number;
}

/**
 * The int8 model for these weights, checked against the agreement bound: cached, or calibrated
 * now on `calibration`. A model below the bound is refused (ERR_INT8_AGREEMENT) with its figures.
 */
export async function openInt8Model(model: CreateXceptionOptions, weights: WeightValues | DeferredWeights | null, inputShape: readonly [number, number], o: Int8Options): Promise<Int8ModelFile> {
  const source = o.calibration;
  const images = async (): Promise<CalibrationImages> => {
    if (source === undefined) {
      throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'calibration', (w) =>
        `${w.option('precision', 'int8')} needs an int8 model calibrated on photos, and none of these weights is cached; pass ${w.option('calibration', 'photos')} (64 to 256 typical photos), or use ${w.option('precision', 'fp32')}.`);
    }
    return typeof source === 'function' ? source(inputShape) : decodeCalibrationPhotos(source, inputShape);
  };
  let file: Int8ModelFile;
  try {
    file = await prepareInt8Model(model, weights, {
      images: Array.isArray(source) ? await images() : images,
      // A cached model below the bound is passed over: the photos at hand are calibrated on instead.
      accept: (record) => passesBound(record.agreement),
      ...(o.method ? { method: o.method } : {}), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}), ...(o.threads ? { threads: o.threads } : {}),
    });
  } catch (error) {
    if (error instanceof RuntimeError) throw error;
    throw new RuntimeError('ERR_RUNTIME_OPTIONS', 'precision', (w) => `${w.option('precision', 'int8')}: the int8 model could not be made (${reasonOf(error)}); use ${w.option('precision', 'fp32')}.`, { cause: error });
  }
  refuseBelowBound(file);
  return file;
}

/** Whether an int8 model's recorded agreement with fp32 reaches the bound. */
export function passesBound(a: Int8ModelFile['record']['agreement']): boolean {
  // Without a classifier top there is no class to agree on: the embeddings' cosine stands in.
  return (a.top1 ?? a.embeddingCosine) >= INT8_MIN_TOP1_AGREEMENT;
}

/** Throws ERR_INT8_AGREEMENT when the recorded agreement is below the bound. */
export function refuseBelowBound(file: Pick<Int8ModelFile, 'path' | 'record'>): void {
  const a = file.record.agreement;
  if (passesBound(a)) return;
  const what = a.top1 === null
    ? `its embeddings' mean cosine to fp32 is ${a.embeddingCosine.toFixed(4)}`
    : `its top-1 class agrees with fp32 on ${Math.round(a.top1 * a.heldOut)} of ${a.heldOut} held-out calibration photos (${a.top1.toFixed(3)})`;
  throw new RuntimeError('ERR_INT8_AGREEMENT', 'precision', (w) =>
    `${w.option('precision', 'int8')} refused: ${what}, below the ${INT8_MIN_TOP1_AGREEMENT} bound (${file.path}); calibrate again on more typical photos (${w.option('calibration', 'photos')}), or use ${w.option('precision', 'fp32')}.`);
}

/** Decodes calibration photos as the pipeline does (sharp, the model's size) and preprocesses them to [-1, 1]; unreadable files are passed over. */
export async function decodeCalibrationPhotos(paths: readonly string[], inputShape: readonly [number, number]): Promise<CalibrationImages> {
  const [height, width] = inputShape;
  const decoded: Uint8Array[] = [];
  for (const path of paths) {
    const d = await decodeInput({ path, ok: true }, inputShape);
    if ('pixels' in d) decoded.push(d.pixels);
  }
  const pixels = new Float32Array(decoded.length * height * width * 3);
  decoded.forEach((p, i) => pixels.set(preprocessInput(p), i * height * width * 3));
  return { pixels, count: decoded.length, height, width };
}
