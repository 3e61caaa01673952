import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Field, FixedSizeList, Float32, Schema, Table, tableToIPC, Utf8 } from 'apache-arrow';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { ByteWriter, ParquetWriter, type SchemaElement } from 'hyparquet-writer';
import { BatchError } from './batch-error.js';
import { FEATURE_WIDTH, readEmbeddingRows } from './embedding-journal.js';
import { parquetJournalOf, type ParquetKind } from './parquet-journal.js';
import { linesOf, type ResultRow } from './results-file.js';

export { parquetJournalOf, type ParquetKind } from './parquet-journal.js';

/**
 * `--out x.parquet`: the run's durable record stays its journal (JSONL rows for classify, the
 * binary .npy journal for embed), and x.parquet is written from it when the run finishes:
 * beside, flushed, then renamed over the last one. A Parquet file is only readable once its
 * footer is written, so appending row groups as a run goes would leave an unreadable file after
 * kill -9 and could not resume without reading every row group back; rewriting from the journal
 * keeps kill -9, resume, --retry-failed and poison pills exactly as they are for .jsonl and .npy.
 *
 * hyparquet-writer writes the file; apache-arrow only serialises the Arrow schema that tells
 * Arrow readers (pyarrow, Polars, DuckDB through Arrow) that `embedding` is a fixed-size list of
 * 2048 float32, which Parquet alone can only store as a plain list.
 */

/** One row as it is stored: the columns of the file. */
export type ParquetRecord = ClassifyRecord | EmbedRecord;
export interface ClassifyRecord {
  path: string;
  model: string | null;
  size: bigint | null;
  mtime: Date | null;
  status: 'ok' | 'error';
  error_code: string | null;
  error_message: string | null;
  top_index: number[] | null;
  top_wnid: string[] | null;
  top_label: string[] | null;
  top_score: number[] | null;
  decode_ms: number | null;
  infer_ms: number | null;
}
export interface EmbedRecord {
  path: string;
  embedding: number[];
}

/** What the file's key-value metadata records, so that merge can refuse parts that disagree. */
export interface ParquetHeader {
  kind: ParquetKind;
  topK: number | null;
  /** The model record's JSON (as in `<out>.model.json`), or null when the run had none. */
  model: string | null;
}

const KEY = { kind: 'xception:kind', topK: 'xception:top_k', model: 'xception:model' } as const;
/**
 * Rows per row group: 2 MB of features for embed (hyparquet-writer encodes a group through JS
 * arrays of every value and its levels, ~10x the bytes: larger groups cost memory, not speed),
 * a few MB of rows for classify.
 */
const ROW_GROUP = { classify: 10_000, embed: 256 } as const;

const list = (name: string, element: SchemaElement): SchemaElement[] => [
  { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { ...element, name: 'element', repetition_type: 'REQUIRED' },
];
const utf8 = (name: string, repetition: 'REQUIRED' | 'OPTIONAL' = 'OPTIONAL'): SchemaElement =>
  ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: repetition });

function parquetSchema(kind: ParquetKind): SchemaElement[] {
  if (kind === 'embed') {
    return [
      { name: 'schema', num_children: 2 },
      utf8('path', 'REQUIRED'),
      // Required all the way down: pyarrow 25 cannot read a null row of a fixed-size list back.
      { name: 'embedding', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'REQUIRED' },
    ];
  }
  return [
    { name: 'schema', num_children: 13 },
    utf8('path', 'REQUIRED'),
    utf8('model'),
    { name: 'size', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'mtime', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
    utf8('status', 'REQUIRED'),
    utf8('error_code'),
    utf8('error_message'),
    ...list('top_index', { name: '', type: 'INT32' }),
    ...list('top_wnid', { name: '', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    ...list('top_label', { name: '', type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
    ...list('top_score', { name: '', type: 'FLOAT' }),
    { name: 'decode_ms', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'infer_ms', type: 'FLOAT', repetition_type: 'OPTIONAL' },
  ];
}

/** The Arrow schema pyarrow stores as `ARROW:schema`: here, only to make `embedding` fixed-size. */
function arrowSchemaMetadata(): string {
  const schema = new Schema([
    new Field('path', new Utf8(), false),
    new Field('embedding', new FixedSizeList(FEATURE_WIDTH, new Field('element', new Float32(), false)), false),
  ]);
  return Buffer.from(tableToIPC(new Table(schema), 'stream')).toString('base64');
}

const COLUMNS: Record<ParquetKind, readonly string[]> = {
  classify: ['path', 'model', 'size', 'mtime', 'status', 'error_code', 'error_message', 'top_index', 'top_wnid', 'top_label', 'top_score', 'decode_ms', 'infer_ms'],
  embed: ['path', 'embedding'],
};

/** A classify row as stored (embed stores only rows with features; their failures stay in `<out>.errors.jsonl`). */
export function toRecord(row: ResultRow): ClassifyRecord {
  return {
    path: row.path,
    model: row.model ?? null,
    size: row.size === undefined ? null : BigInt(row.size),
    mtime: row.mtime === undefined ? null : new Date(row.mtime),
    status: row.error ? 'error' : 'ok',
    error_code: row.error?.code ?? null,
    error_message: row.error?.message ?? null,
    top_index: row.top?.map((p) => p.index) ?? null,
    top_wnid: row.top?.map((p) => p.wnid) ?? null,
    top_label: row.top?.map((p) => p.label) ?? null,
    top_score: row.top?.map((p) => p.score) ?? null,
    decode_ms: row.timing?.decodeMs ?? null,
    infer_ms: row.timing?.inferMs ?? null,
  };
}

/**
 * hyparquet-writer's buffer, flushed to a file descriptor after each row group and past 1 MB
 * (so a row group never sits whole in memory), every byte checked, fsync'd at the end.
 */
class FileWriter extends ByteWriter {
  constructor(private readonly fd: number, private readonly path: string) {
    super(1 << 20);
  }

  override ensure(size: number): void {
    if (this.index > 1 << 20) this.flush();
    super.ensure(size);
  }

  flush(): void {
    const bytes = new Uint8Array(this.buffer, 0, this.index);
    try {
      for (let offset = 0; offset < bytes.length;) {
        const written = writeSync(this.fd, bytes, offset, bytes.length - offset);
        if (written <= 0) throw Object.assign(new Error('a write of 0 bytes'), { code: 'ESHORTWRITE' });
        offset += written;
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      throw new BatchError('ERR_OUTPUT_WRITE', (w) => `Cannot write ${this.path} (${code}${code === 'ENOSPC' ? ': the disk is full' : ''}); fix that, then rerun the same ${w.command}: the rows are kept in its journal.`);
    }
    this.index = 0;
  }

  override finish(): void {
    this.flush();
    fsyncSync(this.fd);
  }
}

/**
 * Writes `out` from batches of stored rows: into `<out>.<pid>.tmp`, flushed, then renamed over
 * `out`, so a reader sees the last whole file or the new whole file, never half of one.
 * Returns the number of rows written.
 */
export async function writeParquet(out: string, header: ParquetHeader, batches: AsyncIterable<readonly ParquetRecord[]>): Promise<number> {
  const tmp = `${out}.${process.pid}.tmp`;
  // What a write killed part-way left (the caller holds the output's lock, so no one else writes it).
  const leftover = new RegExp(`^${basename(out).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.\\d+\\.tmp$`);
  for (const name of readdirSync(dirname(out))) if (leftover.test(name)) rmSync(join(dirname(out), name), { force: true });
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (error) {
    throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `Cannot write ${out} (${(error as NodeJS.ErrnoException).code}); choose a writable ${w.option('out')}.`);
  }
  let rows = 0;
  try {
    const kvMetadata = [
      { key: KEY.kind, value: header.kind },
      ...(header.topK === null ? [] : [{ key: KEY.topK, value: String(header.topK) }]),
      ...(header.model === null ? [] : [{ key: KEY.model, value: header.model }]),
      ...(header.kind === 'embed' ? [{ key: 'ARROW:schema', value: arrowSchemaMetadata() }] : []),
    ];
    const writer = new ParquetWriter({
      writer: new FileWriter(fd, out),
      schema: parquetSchema(header.kind),
      kvMetadata,
      createdBy: 'xception (hyparquet-writer)',
    });
    for await (const batch of chunked(batches, ROW_GROUP[header.kind])) {
      await writer.write({
        columnData: COLUMNS[header.kind].map((name) => ({
          name,
          data: batch.map((r) => (r as unknown as Record<string, unknown>)[name]),
          // Features are noise to a compressor and a dictionary: plain float32 pages, no statistics.
          ...(name === 'embedding' ? { codec: 'UNCOMPRESSED' as const, encoding: 'PLAIN' as const, statistics: false } : {}),
        })),
        rowGroupSize: batch.length,
      });
      rows += batch.length;
    }
    await writer.finish();
    closeSync(fd);
    renameSync(tmp, out);
    return rows;
  } catch (error) {
    try { closeSync(fd); } catch { /* closed already */ }
    rmSync(tmp, { force: true });
    throw error;
  }
}

/** Regroups batches of any size into row groups of `size` rows (the last one shorter). */
async function* chunked<T>(batches: AsyncIterable<readonly T[]>, size: number): AsyncGenerator<T[]> {
  let group: T[] = [];
  for await (const batch of batches) {
    for (const item of batch) {
      group.push(item);
      if (group.length === size) { yield group; group = []; }
    }
  }
  if (group.length > 0) yield group;
}

/** Reads what a Parquet file written here records about itself; a file from elsewhere is refused. */
export async function readParquetHeader(path: string): Promise<{ header: ParquetHeader; metadata: FileMetaData }> {
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  } catch (error) {
    throw new BatchError('ERR_PARQUET_FORMAT', (w) => `${path} is not a whole Parquet file (${(error as Error).message}); rerun the ${w.command} that wrote it to finish it.`);
  }
  const kv = new Map((metadata.key_value_metadata ?? []).map((e) => [e.key, e.value ?? null]));
  const kind = kv.get(KEY.kind);
  if (kind !== 'classify' && kind !== 'embed') {
    throw new BatchError('ERR_PARQUET_FORMAT', (w) => `${path} was not written by ${w.writer('parquet')} (no ${KEY.kind} metadata).`);
  }
  const topK = kv.get(KEY.topK);
  return { header: { kind, topK: topK ? Number(topK) : null, model: kv.get(KEY.model) ?? null }, metadata };
}

/** The rows of a Parquet file written here, a row group at a time. */
export async function* readParquetRecords(path: string): AsyncGenerator<ParquetRecord[]> {
  const { header, metadata } = await readParquetHeader(path);
  const file = await asyncBufferFromFile(path);
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    const objects = await parquetReadObjects({ file, metadata, rowStart: start, rowEnd: end, columns: [...COLUMNS[header.kind]] });
    yield objects as unknown as ParquetRecord[];
    start = end;
  }
}

/** Writes `out` from its run's journal (see parquetJournalOf). */
export async function writeParquetFromJournal(out: string, header: ParquetHeader): Promise<number> {
  const journal = parquetJournalOf(out, header.kind);
  async function* records(): AsyncGenerator<ParquetRecord[]> {
    if (header.kind === 'embed') {
      for await (const batch of readEmbeddingRows(journal)) yield batch.map((r) => ({ path: r.path, embedding: Array.from(r.features) }));
      return;
    }
    let batch: ParquetRecord[] = [];
    for await (const line of linesOf(journal)) {
      if (line.trim() === '') continue;
      let row: ResultRow;
      try { row = JSON.parse(line) as ResultRow; } catch { continue; } // a torn last line: that input is redone
      batch.push(toRecord(row));
      if (batch.length === 1000) { yield batch; batch = []; }
    }
    if (batch.length > 0) yield batch;
  }
  return writeParquet(out, header, records());
}
