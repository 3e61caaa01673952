import onnxProto from 'onnx-proto';
import { RangeCollector, type CalibrationMethod } from './activation-ranges.js';
import { ONNX_IO } from './export-onnx.js';
import { qdqCalibrationTensors, writeQdqInt8, type ActivationRange, type WeightBits } from './qdq-int8.js';

const { onnx } = onnxProto;

/** The part of onnxruntime (onnxruntime-node, or -web) calibration uses; the caller passes its module, so this package loads none. */
export interface OrtForCalibration {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<CalibrationSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}
interface CalibrationSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** Decoded calibration photos: NHWC float32 in [-1, 1] (preprocess_input), `count` images of height x width. */
export interface CalibrationImages {
  pixels: Float32Array;
  count: number;
  height: number;
  width: number;
}

/** How the int8 model agrees with the fp32 one on the held-out photos (never used to calibrate). */
export interface Int8Agreement {
  /** Held-out photos compared. */
  heldOut: number;
  /** Photos the ranges were measured on. */
  calibrated: number;
  /** Share of held-out photos whose top-1 class is the same; null without a classifier top. */
  top1: number | null;
  /** Mean share of the top-5 classes in common; null without a top (or under 5 classes). */
  top5Overlap: number | null;
  /** Mean cosine similarity of the 2048-d features (the embedding). */
  embeddingCosine: number;
}

export interface Int8Calibration {
  bytes: Uint8Array;
  method: CalibrationMethod;
  ranges: Map<string, ActivationRange>;
  agreement: Int8Agreement;
}

/** Every `HOLD_OUT_EVERY`-th photo is held out to measure agreement (a quarter), the rest calibrate. */
export const HOLD_OUT_EVERY = 4;

/**
 * Calibrates and writes the QDQ int8 model of an fp32 export: runs the calibration photos
 * through the fp32 model in onnxruntime with every quantized activation made a graph output,
 * takes each tensor's range by `method`, writes the model (writeQdqInt8), and measures its
 * agreement with fp32 on the held-out photos. One photo at a time (an image's activations are
 * ~100 MB at 299x299). At least 2 photos: one to calibrate, one to hold out. `weightBits`: see writeQdqInt8.
 */
export async function calibrateInt8(ort: OrtForCalibration, fp32Bytes: Uint8Array, images: CalibrationImages, method: CalibrationMethod, threads = 1, weightBits: WeightBits = 8): Promise<Int8Calibration> {
  if (images.count < 2) throw new Error(`int8 calibration needs at least 2 photos (one is held out), not ${images.count}`);
  const held = (i: number): boolean => i % HOLD_OUT_EVERY === HOLD_OUT_EVERY - 1 || (images.count < HOLD_OUT_EVERY && i === images.count - 1);
  const indices = Array.from({ length: images.count }, (_, i) => i);
  const calibrating = indices.filter((i) => !held(i)), heldOut = indices.filter(held);
  const tensors = qdqCalibrationTensors(fp32Bytes);
  const options = { graphOptimizationLevel: 'basic', intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' };
  const one = (i: number) => ({ [ONNX_IO.input]: new ort.Tensor('float32', imageAt(images, i), [1, images.height, images.width, 3]) });
  const collector = new RangeCollector();
  const reference: Outputs[] = [];
  const session = await ort.InferenceSession.create(withOutputs(fp32Bytes, tensors), options);
  try {
    for (const i of calibrating) {
      const r = await session.run(one(i));
      for (const name of tensors) collector.observeExtremes(name, r[name]!.data as Float32Array);
    }
    if (method !== 'minmax') {
      for (const i of calibrating) {
        const r = await session.run(one(i));
        for (const name of tensors) collector.observeHistogram(name, r[name]!.data as Float32Array);
      }
    }
    for (const i of heldOut) reference.push(outputsOf(await session.run(one(i))));
  } finally {
    await session.release();
  }
  const ranges = collector.ranges(method);
  const bytes = writeQdqInt8(fp32Bytes, ranges, weightBits);
  const int8 = await ort.InferenceSession.create(bytes, { ...options, graphOptimizationLevel: 'all' });
  const quantized: Outputs[] = [];
  try {
    for (const i of heldOut) quantized.push(outputsOf(await int8.run(one(i))));
  } finally {
    await int8.release();
  }
  return { bytes, method, ranges, agreement: { ...compareOutputs(reference, quantized), heldOut: heldOut.length, calibrated: calibrating.length } };
}

interface Outputs { output: Float32Array; outputDims: readonly number[]; features: Float32Array }

const outputsOf = (r: Record<string, { data: unknown; dims: readonly number[] }>): Outputs => ({
  output: r[ONNX_IO.output]!.data as Float32Array, outputDims: r[ONNX_IO.output]!.dims, features: r[ONNX_IO.features]!.data as Float32Array,
});

const imageAt = (images: CalibrationImages, i: number): Float32Array => {
  const size = images.height * images.width * 3;
  return images.pixels.slice(i * size, (i + 1) * size);
};

/** The fp32 model with `tensors` added to its graph outputs, so that one run gives every activation. */
function withOutputs(fp32Bytes: Uint8Array, tensors: readonly string[]): Uint8Array {
  const model = onnx.ModelProto.decode(fp32Bytes);
  const outputs = model.graph!.output!;
  const present = new Set(outputs.map((o) => o.name));
  for (const name of tensors) {
    if (present.has(name)) continue;
    outputs.push(onnx.ValueInfoProto.create({ name, type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT }) }) }));
  }
  return onnx.ModelProto.encode(model).finish();
}

/** Top-1 agreement, top-5 overlap (with a classifier top) and the features' mean cosine, fp32 against int8. */
export function compareOutputs(reference: readonly Outputs[], quantized: readonly Outputs[]): Omit<Int8Agreement, 'heldOut' | 'calibrated'> {
  const classified = reference.length > 0 && reference[0]!.outputDims.length === 2 && reference[0]!.output.length > 1;
  let top1 = 0, top5 = 0, cosine = 0;
  reference.forEach((r, i) => {
    const q = quantized[i]!;
    cosine += cosineOf(r.features, q.features);
    if (!classified) return;
    const a = topK(r.output, 5), b = topK(q.output, 5);
    if (a[0] === b[0]) top1++;
    top5 += a.filter((c) => b.includes(c)).length / a.length;
  });
  const n = Math.max(1, reference.length);
  return {
    top1: classified ? top1 / n : null,
    top5Overlap: classified && reference[0]!.output.length >= 5 ? top5 / n : null,
    embeddingCosine: cosine / n,
  };
}

export function topK(values: Float32Array, k: number): number[] {
  return Array.from(values.keys()).sort((a, b) => values[b]! - values[a]!).slice(0, k);
}

export function cosineOf(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
  return na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
}
