import { createHash } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { BatchError, type BatchWords } from './batch-error.js';

/** Which model and settings produced an output: `<out>.model.json`, and `model` (its id) in every JSONL row. */
export interface ModelRecord {
  kind: 'classify' | 'embed';
  /** The weights as the user named them (informative: the hash decides). */
  weights: string;
  /** SHA-256 over the weight tensors (names, shapes, float32 values), whatever file format held them; 'random' for no weights. */
  weightsSha256: string;
  top: boolean;
  inputSize: number;
  resize: string;
  topK: number | null;
  /** 'int8': rows of a calibrated int8 model, which differ from fp32's; absent means fp32. */
  precision?: 'fp32' | 'int8';
}

/** A model's weight tensors by name (@xception/core's WeightValues has this shape; no dependency on it for a type). */
export type NamedWeights = ReadonlyMap<string, { readonly shape: readonly number[]; readonly values: Float32Array }>;

/** Hashes the values, not the file: the same weights from a .h5 or a model.json give the same record. */
export function hashWeights(weights: NamedWeights | null): string {
  if (!weights) return 'random';
  const hash = createHash('sha256');
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(`${name}:${w.shape.join('x')}\n`);
    hash.update(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  }
  return hash.digest('hex');
}

/** A short id for rows: the first 16 hex digits of the record's own hash. */
export function modelId(record: ModelRecord): string {
  return createHash('sha256').update(JSON.stringify(comparable(record))).digest('hex').slice(0, 16);
}

/** What identifies the rows' model: fp32 records (no precision) keep the ids they had before int8 existed. */
function comparable(r: ModelRecord) {
  return { kind: r.kind, weightsSha256: r.weightsSha256, top: r.top, inputSize: r.inputSize, resize: r.resize, topK: r.topK, ...(r.precision === 'int8' ? { precision: 'int8' } : {}) };
}

/** comparable() with the precision always there, so that fp32 against int8 is a difference either way round. */
const compared = (r: ModelRecord) => ({ ...comparable(r), precision: r.precision ?? 'fp32' });

/**
 * Writes the record beside a new output, or checks it against the one an earlier run left:
 * resuming with other weights or settings would mix two models' rows in one file.
 */
export async function checkModelRecord(out: string, record: ModelRecord, options: { outputHasRows: boolean }): Promise<void> {
  const file = `${out}.model.json`;
  // A record without rows (a run that stopped before its first row) binds nothing.
  const text = options.outputHasRows ? await readFile(file, 'utf8').catch(() => null) : null;
  if (text !== null) {
    let earlier: ModelRecord | null = null;
    try { earlier = JSON.parse(text) as ModelRecord; } catch { /* damaged: rewritten below */ }
    if (earlier) {
      const differences = modelDifferences(earlier, record);
      if (differences) {
        throw new BatchError('ERR_OUTPUT_OTHER_MODEL', (w) => `${out} was written by another model or settings: ${differences(w)}; rerun with the options it was started with, or choose another ${w.option('out')}.`);
      }
      return;
    }
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, `${JSON.stringify({ ...record, id: modelId(record) }, null, 2)}\n`);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true }); // a full disk leaves no half record behind
    throw error;
  }
}

/** How `record` differs from `earlier`, in the caller's words (`--image-size 75 instead of 71`), or null when they agree. */
export function modelDifferences(earlier: ModelRecord, record: ModelRecord): ((words: BatchWords) => string) | null {
  const before = compared(earlier);
  const now = compared(record);
  const changed = (Object.keys(now) as Array<keyof typeof now>).filter((k) => before[k] !== now[k]);
  if (changed.length === 0) return null;
  return (w) => changed.map((k) => k === 'weightsSha256'
    ? `${w.option('weights', record.weights)} (sha256 ${short(now[k])}) instead of ${earlier.weights} (sha256 ${short(before[k])})`
    : `${w.option(k, String(now[k]))} instead of ${String(before[k])}`).join('; ');
}

const short = (hash: string): string => (hash === 'random' ? 'none: random' : `${hash.slice(0, 12)}…`);
