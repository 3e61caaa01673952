import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { CreateXceptionOptions, WeightValues } from '@xception/core';
// Types only here: the calibrator (and protobufjs under it) loads when a model is calibrated, not on every start.
import type { CalibrationImages, CalibrationMethod, Int8Agreement, OrtForCalibration, WeightBits } from '@xception/onnx';
import { defaultCacheDir } from '@xception/weights';
import type { DeferredWeights } from './engine.js';
import { sha256OfFile } from './file-sha256.js';
import { int8WeightBitsForThisCpu } from './int8-weight-bits.js';
import { onnxCacheKey, prepareOnnxModel, pruneOnnxCache } from './onnx-model-file.js';
import { probeOnnxRuntime } from './onnx-probe.js';

/**
 * The calibration method int8 models are made with unless told otherwise. Measured on the
 * shared photos (@xception/onnx's README has the figures): min-max agreed with fp32 within a
 * photo of percentile and far better than entropy, and needs one pass over the photos where the
 * histogram methods need two.
 */
export const CALIBRATION_DEFAULT: CalibrationMethod = 'minmax';

/** What an int8 model records beside itself (`<model>.int8.json`). */
export interface Int8Record {
  method: CalibrationMethod;
  /** SHA-256 of the calibration photos' decoded pixels, and how many there were. */
  calibration: { sha256: string; photos: number; height: number; width: number };
  agreement: Int8Agreement;
  /** The weights' bits (int8WeightBitsForThisCpu); absent in records written before 7 existed: 8. */
  weightBits?: WeightBits;
}

export interface Int8ModelFile {
  path: string;
  /** For people: 'int8 cached <file>', 'int8 calibrated on N photos, cached at <file>'. */
  source: string;
  cached: true;
  record: Int8Record;
  /** True when this call calibrated it (the photos were decoded and run). */
  calibrated: boolean;
}

export interface PrepareInt8Options {
  /**
   * The calibration photos. Given: the model calibrated on exactly these (cached by their
   * pixels). A function: called only when no int8 model of these weights is cached yet (the
   * CLI decodes the run's first inputs then).
   */
  images: CalibrationImages | (() => Promise<CalibrationImages>);
  method?: CalibrationMethod;
  /** The onnx cache folder (default `<weights cache>/onnx`), as prepareOnnxModel takes. */
  cacheDir?: string;
  threads?: number;
  /** Default int8WeightBitsForThisCpu(): 7 on x86 CPUs without VNNI, else 8. */
  weightBits?: WeightBits;
  /**
   * With `images` a function: whether a cached model of these weights may be taken without new
   * photos (the caller's agreement bound). One it would refuse is passed over, so that a refused
   * model never stands in the way of calibrating on other photos.
   */
  accept?(record: Int8Record): boolean;
}

/**
 * The QDQ int8 model of `model` and `weights`, cached beside the fp32 exports as
 * `xception-<fp32 key><calibration key>.onnx` (so the fp32 key, which covers the weights, the
 * configuration and the exporter's and quantizer's code, leads its name), with `.sha256` and
 * `.int8.json` (Int8Record) beside it. The calibration key hashes the method and the photos'
 * decoded pixels. Without photos at hand, the most recently used int8 model of these weights that
 * `accept` takes is taken. Agreement is recorded, not judged: the caller refuses a model below its bound.
 */
export async function prepareInt8Model(model: CreateXceptionOptions, weights: WeightValues | DeferredWeights | null, options: PrepareInt8Options): Promise<Int8ModelFile> {
  const dir = options.cacheDir ?? join(defaultCacheDir(), 'onnx');
  const fp32Key = onnxCacheKey(model, weights);
  const method = options.method ?? CALIBRATION_DEFAULT;
  const bits = options.weightBits ?? int8WeightBitsForThisCpu();
  if (typeof options.images === 'function') {
    const found = await latestInt8Model(dir, fp32Key, { method, bits }, options.accept ?? (() => true));
    if (found) return found;
  }
  const images = typeof options.images === 'function' ? await options.images() : options.images;
  const { key, pixelsHash } = int8CacheKey(fp32Key, method, images, bits);
  const file = join(dir, `xception-${key}.onnx`);
  const cached = await readInt8Model(file, { method, bits });
  if (cached) return cached;

  const fp32 = await prepareOnnxModel(model, weights, dir);
  let fp32Bytes: Uint8Array;
  try {
    fp32Bytes = readFileSync(fp32.path);
  } finally {
    fp32.release();
  }
  const probe = await probeOnnxRuntime();
  if (!probe.available || !probe.ort) throw new Error(`int8 needs onnxruntime-node, which cannot load here (${probe.detail})`);
  const { calibrateInt8 } = await import('@xception/onnx');
  const result = await calibrateInt8(probe.ort as unknown as OrtForCalibration, fp32Bytes, images, method, Math.max(1, options.threads ?? availableParallelism()), bits);
  const record: Int8Record = { method, calibration: { sha256: pixelsHash, photos: images.count, height: images.height, width: images.width }, agreement: result.agreement, weightBits: bits };
  mkdirSync(dir, { recursive: true });
  writeWhole(file, result.bytes);
  writeWhole(`${file}.int8.json`, `${JSON.stringify(record, null, 2)}\n`);
  writeWhole(`${file}.sha256`, `${createHash('sha256').update(result.bytes).digest('hex')}\n`); // last: the hash makes the model trusted
  try {
    pruneOnnxCache(dir);
  } catch {
    // Housekeeping only.
  }
  return { path: file, source: `int8, calibrated on ${record.agreement.calibrated} photos (${method}), cached at ${file}`, cached: true, record, calibrated: true };
}

/**
 * The int8 model's cache key: the fp32 export's (onnxCacheKey: weights, configuration, and the
 * exporter's code, which includes this quantizer in @xception/onnx) followed by a hash of the
 * calibration: the method and the photos' decoded pixels.
 */
export function int8CacheKey(fp32Key: string, method: CalibrationMethod, images: CalibrationImages, weightBits: WeightBits = 8): { key: string; pixelsHash: string } {
  const pixelsHash = createHash('sha256').update(new Uint8Array(images.pixels.buffer, images.pixels.byteOffset, images.pixels.byteLength)).digest('hex');
  // 8-bit weights add nothing, so that the keys of models cached before 7 bits existed stay valid.
  const bits = weightBits === 8 ? '' : `\nweights ${weightBits} bits`;
  const calibration = createHash('sha256').update(`${method}\n${images.count} x ${images.height}x${images.width}\n${pixelsHash}${bits}`).digest('hex').slice(0, 24);
  return { key: `${fp32Key}${calibration}`, pixelsHash };
}

/** A cached int8 model whose bytes match their hash and whose record is there (and was made by `method`, with `bits`-bit weights); else null. */
async function readInt8Model(file: string, { method, bits }: { method: CalibrationMethod; bits: WeightBits }): Promise<Int8ModelFile | null> {
  try {
    const expected = readFileSync(`${file}.sha256`, 'utf8').trim();
    const record = JSON.parse(readFileSync(`${file}.int8.json`, 'utf8')) as Int8Record;
    if (record.method !== method || (record.weightBits ?? 8) !== bits || expected === '' || expected !== (await sha256OfFile(file))) return null;
    return { path: file, source: `int8 cached ${file}`, cached: true, record, calibrated: false };
  } catch {
    return null;
  }
}

/** The most recently written int8 model of the fp32 key `fp32Key` in `dir` that `accept` takes, or null. */
async function latestInt8Model(dir: string, fp32Key: string, made: { method: CalibrationMethod; bits: WeightBits }, accept: (record: Int8Record) => boolean): Promise<Int8ModelFile | null> {
  if (!existsSync(dir)) return null;
  const pattern = new RegExp(`^xception-${fp32Key}[0-9a-f]{24}\\.onnx$`);
  const candidates = readdirSync(dir)
    .filter((name) => pattern.test(name))
    .map((name) => ({ file: join(dir, name), time: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.time - a.time);
  for (const { file } of candidates) {
    const found = await readInt8Model(file, made);
    if (found && accept(found.record)) return found;
  }
  return null;
}

/** Written beside under a temporary name, then renamed: a reader sees no file or a whole one. */
function writeWhole(file: string, data: string | Uint8Array): void {
  const partial = `${file}.${process.pid}.partial`;
  try {
    writeFileSync(partial, data);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}
