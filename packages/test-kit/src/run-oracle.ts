import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * Runs one Python script in the oracle environment (real Keras 3 on TensorFlow 2.21) on the CPU,
 * quietly, and returns its stdout. One process per test file: TensorFlow takes ~4 s to start.
 */
export function runOraclePython(python: string, script: string, args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(python, ['-c', script, ...args], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 180_000,
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '-1', TF_CPP_MIN_LOG_LEVEL: '3', PYTHONHASHSEED: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export interface NpyArray {
  readonly dtype: '<f4' | '|u1' | '<f8';
  readonly shape: readonly number[];
  readonly data: Float32Array | Uint8Array | Float64Array;
}

/**
 * Reads a C-order .npy file that NumPy wrote (float32, float64 or uint8): the format is a magic
 * string, a Python-dict header and the raw little-endian data, small enough to read by hand.
 */
export function readNpy(path: string): NpyArray {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path} is not a .npy file`);
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = bytes.toString('latin1', major === 1 ? 10 : 12, start);
  const dtype = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`${path}: Fortran order is not supported`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(start);
  const copy = new Uint8Array(body).buffer; // aligned copy
  if (dtype === '<f4') return { dtype, shape, data: new Float32Array(copy) };
  if (dtype === '<f8') return { dtype, shape, data: new Float64Array(copy) };
  if (dtype === '|u1') return { dtype, shape, data: new Uint8Array(copy) };
  throw new Error(`${path}: dtype ${String(dtype)} is not supported`);
}
