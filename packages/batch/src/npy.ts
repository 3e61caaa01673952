import { readFile, rename, writeFile } from 'node:fs/promises';
import { BatchError } from './batch-error.js';

/**
 * NumPy's .npy format (v1.0 to v3.0 read, v1.0 written), for float32 tensors exchanged with
 * Keras and Python: `np.load('x.npy')` reads what `writeNpy` writes and the reverse.
 */
export interface NpyArray {
  data: Float32Array;
  shape: number[];
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new BatchError('ERR_NPY_UNREADABLE', (w) => `Cannot read ${path} (${(error as NodeJS.ErrnoException).code}); check the ${w.option('input')} path.`);
  }
  const bad = (why: string): never => {
    throw new BatchError('ERR_NPY_FORMAT', () => `${path} is not a float32 .npy array NumPy can write: ${why}; save it with np.save(path, x.astype(np.float32)).`);
  };
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) bad('the file does not start with the .npy magic string');
  const major = bytes[6]!;
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.subarray(headerStart, headerStart + headerLength).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) return bad('its header is damaged');
  if (fortran === 'True') bad('it is in Fortran order');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(headerStart + headerLength);
  let data: Float32Array;
  if (descr === '<f4') {
    if (body.length !== count * 4) bad(`it holds ${body.length} data bytes where shape (${shape.join(', ')}) needs ${count * 4}`);
    data = new Float32Array(count);
    Buffer.from(data.buffer).set(body);
  } else if (descr === '<f8') {
    if (body.length !== count * 8) bad(`it holds ${body.length} data bytes where shape (${shape.join(', ')}) needs ${count * 8}`);
    const doubles = new Float64Array(count);
    Buffer.from(doubles.buffer).set(body);
    data = Float32Array.from(doubles);
  } else {
    return bad(`its dtype is ${descr}, not float32 ('<f4') or float64 ('<f8')`);
  }
  return { data, shape };
}

/** The .npy v1.0 header for a little-endian float32 C-order array of this shape. */
export function npyHeader(shape: readonly number[]): Buffer {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${dims}, }`;
  // NumPy pads the header with spaces and a newline so that the data starts 64-byte aligned.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1')]);
}

/** Writes atomically (a temporary file, then rename): a crash never leaves half an array. */
export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, Buffer.concat([npyHeader(array.shape), Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength)]));
  await rename(temporary, path);
}
