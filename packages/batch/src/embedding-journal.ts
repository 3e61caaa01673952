import { createReadStream } from 'node:fs';
import { open, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { BatchError } from './batch-error.js';
import { PathSet } from './path-set.js';
import { ResultsFile, type OpenedResults, type ResultRow } from './results-file.js';

/** Xception's pooled features. */
export const FEATURE_WIDTH = 2048;
/**
 * The .npy header is written at a fixed 128 bytes (NumPy accepts any space padding that keeps the
 * data 64-byte aligned), so the row count can be rewritten in place as rows are appended.
 */
export const NPY_HEADER_BYTES = 128;

export function fixedNpyHeader(rows: number, width: number): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${width}), }`;
  const header = Buffer.alloc(NPY_HEADER_BYTES, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(header);
  header.writeUInt16LE(NPY_HEADER_BYTES - 10, 8);
  header.write(dict, 10, 'latin1');
  header[NPY_HEADER_BYTES - 1] = 0x0a;
  return header;
}

/** Reads the row count and width of a .npy file written by fixedNpyHeader (or any 2-d float32 v1 .npy). */
export async function readNpyShape(path: string): Promise<{ rows: number; width: number; dataStart: number }> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const headerLength = head.readUInt16LE(8);
    const text = head.subarray(10, Math.min(bytesRead, 10 + headerLength)).toString('latin1');
    const shape = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(text);
    if (head.readUInt32BE(0) !== 0x934e554d || !shape || !/'descr':\s*'<f4'/.test(text)) {
      throw new BatchError('ERR_NPY_FORMAT', (w) => `${path} is not a 2-d float32 .npy file written by ${w.writer('embed')}.`);
    }
    return { rows: Number(shape[1]), width: Number(shape[2]), dataStart: 10 + headerLength };
  } finally {
    await handle.close();
  }
}

/** Path lines of `<name>.paths.txt`: JSON-quoted when a path holds a newline, a quote or a backslash. */
export const encodePathLine = (path: string): string => (/[\n\r"\\]/.test(path) ? JSON.stringify(path) : path);
export const decodePathLine = (line: string): string => (line.startsWith('"') ? JSON.parse(line) as string : line);
export const pathsFileOf = (npyPath: string): string => `${npyPath.replace(/\.npy$/i, '')}.paths.txt`;

/**
 * `embed --out x.npy` writes x.npy itself as its journal: float32 rows appended in place, the
 * path of row i on line i of x.paths.txt, error rows in x.npy.errors.jsonl. After each batch
 * both files are flushed, then the row count in the header is updated and flushed: after kill -9
 * the header counts only complete rows, and reopening cuts whatever lies beyond. So what embed
 * leaves on disk is the features plus their paths (the JSON journal it replaces took ~6x that).
 */
export class EmbeddingJournal {
  readonly format = 'npy';
  private constructor(
    private readonly npy: FileHandle,
    private readonly paths: FileHandle,
    private readonly errors: ResultsFile,
    private rows: number,
    readonly path: string,
  ) {}

  /** errorsPath: where error rows go (default `<npyPath>.errors.jsonl`). */
  static async open(npyPath: string, options: { retryFailed?: boolean; errorsPath?: string } = {}): Promise<OpenedResults<EmbeddingJournal>> {
    const pathsFile = pathsFileOf(npyPath);
    const rowBytes = FEATURE_WIDTH * 4;
    const done = new PathSet();
    let rows = 0;
    let dropped = 0;
    const existing = await stat(npyPath).catch(() => null);
    if (existing) {
      const shape = await readNpyShape(npyPath);
      if (shape.width !== FEATURE_WIDTH || shape.dataStart !== NPY_HEADER_BYTES) {
        throw new BatchError('ERR_OUTPUT_MISMATCH', (w) => `${npyPath} was not written by ${w.writer('embed')} (shape (${shape.rows}, ${shape.width})); choose another ${w.option('out')}.`);
      }
      const complete = Math.min(shape.rows, Math.floor((existing.size - NPY_HEADER_BYTES) / rowBytes));
      // The paths of the complete rows, and the byte length they take.
      let keepBytes = 0;
      for await (const line of linesWithLength(pathsFile)) {
        if (rows === complete) break;
        done.add(decodePathLine(line.text));
        keepBytes += line.bytes;
        rows++;
      }
      dropped = existing.size - (NPY_HEADER_BYTES + rows * rowBytes);
      await truncate(npyPath, NPY_HEADER_BYTES + rows * rowBytes);
      await truncate(pathsFile, keepBytes).catch(() => undefined);
    }
    let npy: FileHandle;
    let paths: FileHandle;
    try {
      npy = await open(npyPath, existing ? 'r+' : 'w+');
      paths = await open(pathsFile, 'a');
    } catch (error) {
      throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `Cannot write ${npyPath} (${(error as NodeJS.ErrnoException).code}); choose a writable ${w.option('out')}.`);
    }
    await npy.write(fixedNpyHeader(rows, FEATURE_WIDTH), 0, NPY_HEADER_BYTES, 0);
    const errors = await ResultsFile.open(options.errorsPath ?? `${npyPath}.errors.jsonl`, { topK: 0, format: 'jsonl', retryFailed: options.retryFailed ?? false, done });
    const file = new EmbeddingJournal(npy, paths, errors.file, rows, npyPath);
    return {
      file,
      done,
      resumed: { ...errors.resumed, rows: rows + errors.resumed.rows, droppedTornBytes: Math.max(0, dropped) + errors.resumed.droppedTornBytes },
    };
  }

  get rowCount(): number {
    return this.rows;
  }

  async append(rows: readonly ResultRow[]): Promise<void> {
    const features = rows.filter((r) => r.features);
    const failures = rows.filter((r) => !r.features);
    if (features.length > 0) {
      const data = new Float32Array(features.length * FEATURE_WIDTH);
      features.forEach((r, i) => data.set(r.features!, i * FEATURE_WIDTH));
      const bytes = Buffer.from(data.buffer);
      const position = NPY_HEADER_BYTES + this.rows * FEATURE_WIDTH * 4;
      const { bytesWritten } = await this.npy.write(bytes, 0, bytes.length, position);
      const lines = Buffer.from(features.map((r) => `${encodePathLine(r.path)}\n`).join(''));
      const written = await this.paths.write(lines);
      if (bytesWritten !== bytes.length || written.bytesWritten !== lines.length) {
        throw new BatchError('ERR_OUTPUT_SHORT_WRITE', () => `A short write to ${this.path} (the disk may be full); free space, then rerun to resume.`);
      }
      await this.npy.datasync();
      await this.paths.datasync();
      this.rows += features.length;
      await this.npy.write(fixedNpyHeader(this.rows, FEATURE_WIDTH), 0, NPY_HEADER_BYTES, 0);
      await this.npy.datasync();
    }
    if (failures.length > 0) await this.errors.append(failures);
  }

  async close(): Promise<void> {
    await this.npy.close();
    await this.paths.close();
    await this.errors.close();
    // No error rows: no errors file left beside the features.
    if ((await stat(this.errors.path).catch(() => null))?.size === 0) await rm(this.errors.path, { force: true });
  }

  /** A run that stopped before its first row leaves nothing behind. */
  async removeIfEmpty(): Promise<void> {
    if (this.rows > 0) return;
    await rm(this.path, { force: true });
    await rm(pathsFileOf(this.path), { force: true });
  }
}

/**
 * The complete rows of an embedding .npy (paths beyond the header's count are a torn tail), in
 * batches, with their paths: for merge and for writing Parquet from the journal.
 */
export async function* readEmbeddingRows(npyPath: string, batchRows = 256): AsyncGenerator<Array<{ path: string; features: Float32Array }>> {
  const shape = await readNpyShape(npyPath);
  if (shape.width !== FEATURE_WIDTH) throw new BatchError('ERR_MERGE_MISMATCH', (w) => `${npyPath} has ${shape.width} columns, not ${FEATURE_WIDTH}; only files written by ${w.writer('embed')} go here (nothing was written).`);
  const pathsFile = pathsFileOf(npyPath);
  if (!(await stat(pathsFile).catch(() => null))) {
    throw new BatchError('ERR_MERGE_PART_MISSING', () => `${npyPath} has no ${pathsFile} beside it; copy it with the .npy (nothing was written).`);
  }
  const rowBytes = FEATURE_WIDTH * 4;
  const source = await open(npyPath, 'r');
  try {
    let row = 0;
    let paths: string[] = [];
    const flush = async () => {
      const buffer = Buffer.alloc(paths.length * rowBytes);
      const start = shape.dataStart + (row - paths.length) * rowBytes;
      const { bytesRead } = await source.read(buffer, 0, buffer.length, start);
      if (bytesRead !== buffer.length) throw new BatchError('ERR_MERGE_MISMATCH', (w) => `${npyPath} is shorter than its header says; rerun the ${w.command} that wrote it to resume it (nothing was written).`);
      const features = new Float32Array(buffer.buffer, buffer.byteOffset, buffer.length / 4);
      const batch = paths.map((path, i) => ({ path, features: features.subarray(i * FEATURE_WIDTH, (i + 1) * FEATURE_WIDTH) }));
      paths = [];
      return batch;
    };
    for await (const line of linesWithLength(pathsFile)) {
      if (row >= shape.rows) break;
      paths.push(decodePathLine(line.text));
      row++;
      if (paths.length === batchRows) yield await flush();
    }
    if (paths.length > 0) yield await flush();
  } finally {
    await source.close();
  }
}

/** Lines with their byte length including the newline (to truncate a file after line n). */
async function* linesWithLength(path: string): AsyncGenerator<{ text: string; bytes: number }> {
  let rest = Buffer.alloc(0);
  let stream: AsyncIterable<Buffer>;
  try {
    await stat(path);
    stream = createReadStream(path);
  } catch {
    return;
  }
  for await (const chunk of stream) {
    rest = Buffer.concat([rest, chunk]);
    let nl: number;
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      yield { text: rest.subarray(0, nl).toString('utf8'), bytes: nl + 1 };
      rest = rest.subarray(nl + 1);
    }
  }
}
