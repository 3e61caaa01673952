/**
 * Where a `--out x.parquet` run keeps its rows until the file is written (parquet-output.ts), in
 * a module of its own: the Parquet and Arrow libraries load only when a Parquet file is written
 * or read, not in every classify and embed run.
 */
export type ParquetKind = 'classify' | 'embed';

/** The journal a `--out x.parquet` run appends to: JSONL rows (classify) or the .npy journal (embed). */
export const parquetJournalOf = (out: string, kind: ParquetKind): string => `${out}.journal.${kind === 'classify' ? 'jsonl' : 'npy'}`;
