import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { BatchError } from './batch-error.js';
import { EmbeddingJournal } from './embedding-journal.js';
import { asOutputError, makeOutputFolder } from './output-errors.js';
import { lockOutput, type OutputLock, type OutputLockOptions } from './output-lock.js';
import { parquetJournalOf, type ParquetKind } from './parquet-journal.js';
import { csvHeader, ResultsFile, type OpenedResults } from './results-file.js';
import { shardOutputPath, type Shard } from './shard.js';

/** Where a classify or embed run writes: the file the user named, and the journal its rows go to. */
export interface OutputPlan {
  kind: ParquetKind;
  /** The output, with the shard in its name (`results.shard-2-of-8.jsonl`); '-' for standard output. */
  out: string;
  /** `x.parquet`: written from the journal when the run finishes (see parquet-output.ts for why). */
  parquetOut: string | null;
  /** The file rows are appended to: `out` itself, or `<out>.journal.jsonl|npy` beside a Parquet file. */
  journal: string;
  /** embed into x.npy: x.npy is its own journal (rows appended in place), with x.paths.txt beside. */
  npyOut: string | null;
}

/** The files of a run writing `out` (sharded as `shard` says), refusing a format the kind cannot hold. */
export function planOutput(out: string, kind: ParquetKind, shard: Shard | null): OutputPlan {
  if (kind === 'embed' && /\.csv$/i.test(out)) {
    throw new BatchError('ERR_OUTPUT_FORMAT', (w) => `embed writes .npy (with <name>.paths.txt), .parquet or .jsonl; a CSV has no room for 2048 features per image: use ${w.option('out', 'features.npy')}.`);
  }
  if (kind === 'classify' && /\.npy$/i.test(out)) throw new BatchError('ERR_OUTPUT_FORMAT', () => 'classify writes .jsonl, .csv or .parquet; .npy is for embed.');
  if (out === '-' && (kind === 'embed' || shard)) {
    throw new BatchError('ERR_OUTPUT_FORMAT', (w) => `${w.option('out', '-')} writes classify rows to standard output; embed and ${w.option('shard')} need a file for ${w.option('out')}.`);
  }
  const sharded = shardOutputPath(out, shard);
  const parquetOut = /\.parquet$/i.test(sharded) ? sharded : null;
  const journal = parquetOut ? parquetJournalOf(parquetOut, kind) : sharded;
  return { kind, out: sharded, parquetOut, journal, npyOut: kind === 'embed' && /\.npy$/i.test(journal) ? journal : null };
}

/**
 * Makes the output's folder (as `mkdir -p`), refuses a folder as the output before anything is
 * written beside it, and takes the output's lock (see lockOutput). File-system errors become
 * ERR_OUTPUT_UNWRITABLE.
 */
export async function claimOutput(out: string, options: OutputLockOptions = {}): Promise<OutputLock> {
  await makeOutputFolder(dirname(out)).catch((error: NodeJS.ErrnoException) => {
    throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `Cannot create the folder of ${w.option('out', out)} (${error.code}); choose a writable ${w.option('out')}.`);
  });
  if ((await stat(out).catch(() => null))?.isDirectory()) throw asOutputError(Object.assign(new Error(), { code: 'EISDIR', path: out }), out);
  return lockOutput(out, options).catch((error: unknown) => { throw asOutputError(error, out); });
}

/** The results file (or the .npy journal) a plan appends to, with the inputs it already has rows for. */
export function openOutput(plan: OutputPlan, options: { topK: number; retryFailed?: boolean }): Promise<OpenedResults<ResultsFile | EmbeddingJournal>> {
  const retryFailed = options.retryFailed ?? false;
  if (plan.npyOut) return EmbeddingJournal.open(plan.npyOut, { retryFailed, ...(plan.parquetOut ? { errorsPath: `${plan.parquetOut}.errors.jsonl` } : {}) });
  if (plan.out === '-') return Promise.resolve(ResultsFile.toStdout(options.topK));
  return ResultsFile.open(plan.journal, { topK: options.topK, retryFailed });
}

/** A run that stopped before its first row (no weights, no engine) leaves no empty file behind. */
export async function removeEmptyOutput(file: ResultsFile | EmbeddingJournal, journal: string, topK: number): Promise<void> {
  if (file instanceof EmbeddingJournal) return file.removeIfEmpty();
  const size = (await stat(journal).catch(() => null))?.size;
  if (size !== undefined && size <= (file.format === 'csv' ? csvHeader(topK).length + 1 : 0)) await rm(journal, { force: true });
}

/**
 * Writes `x.parquet` from its journal when the run added or replaced rows (`changed`), or when it
 * is missing; returns the rows written, or null when there was nothing to write. `beforeWrite`
 * runs first (give memory back, check the lock). The Parquet libraries load here, only then.
 */
export async function writeParquetOutput(
  plan: OutputPlan,
  options: { changed: boolean; topK: number; model: string | null; beforeWrite?: () => Promise<void> },
): Promise<number | null> {
  if (!plan.parquetOut || (!options.changed && existsSync(plan.parquetOut))) return null;
  await options.beforeWrite?.();
  const { writeParquetFromJournal } = await import('./parquet-output.js');
  return writeParquetFromJournal(plan.parquetOut, { kind: plan.kind, topK: plan.kind === 'classify' ? options.topK : null, model: options.model });
}
