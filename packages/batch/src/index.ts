/**
 * @xception/batch: the machinery of a resumable batch job over a folder of millions of files.
 * Inputs (files, folders, globs, http(s) URLs, webdataset .tar shards) are listed as a stream and split into shards; rows go to a results file (JSONL, CSV,
 * or the .npy embedding journal) that survives kill -9 and resumes; one writer holds the output's
 * lock; a crash journal names the input that killed a run; SIGTERM stops the run cleanly.
 * Parquet output loads from '@xception/batch/parquet', and S3 (inputs, outputs, the client) from
 * '@xception/batch/s3', so that their libraries (the AWS SDK) load only when used.
 */
export { BatchError, libraryWords, OPTION_ERROR_CODES, type BatchErrorCode, type BatchOption, type BatchWords } from './batch-error.js';
export { decodePathLine, EmbeddingJournal, encodePathLine, FEATURE_WIDTH, fixedNpyHeader, NPY_HEADER_BYTES, pathsFileOf, readEmbeddingRows, readNpyShape } from './embedding-journal.js';
export { CRASHES_BEFORE_GIVING_UP, InFlightJournal } from './in-flight-journal.js';
export { IMAGE_EXTENSIONS, listInputs, type InputEntry, type ListOptions } from './list-inputs.js';
export { isTarShard, memberPath, tarShardInputs, type TarShardOptions } from './tar-shard-input.js';
export { isS3Url, isUrl, readUrl, URL_READ_DEFAULTS, urlInput, type UrlReadOptions } from './url-input.js';
export { checkModelRecord, hashWeights, modelId, type ModelRecord, type NamedWeights } from './model-record.js';
export { npyHeader, readNpy, writeNpy, type NpyArray } from './npy.js';
export { asOutputError } from './output-errors.js';
export { describeHolder, lockOutput, MIN_STALE_SECONDS, STALE_SECONDS, type LockHolder, type OutputLock, type OutputLockOptions } from './output-lock.js';
export { parquetJournalOf, type ParquetKind } from './parquet-journal.js';
export { claimOutput, openOutput, planOutput, removeEmptyOutput, writeParquetOutput, type OutputPlan } from './output-plan.js';
export { runResumable, type ResumableRunOptions, type ResumableRunResult, type RunHooks, type RunSummary } from './resumable-run.js';
export { csvRows, type PartRow } from './part-rows.js';
export { mergeResults, type MergeOptions, type MergeSummary } from './merge-results.js';
export { hash64, PathSet } from './path-set.js';
export { csvHeader, formatFor, linesOf, numberedLinesOf, parseCsvRecord, ResultsFile, type NumberedLine, type OpenedResults, type OutputFormat, type ResultRow, type TopPrediction } from './results-file.js';
export { inShard, resolveShard, shardOutputPath, type Shard } from './shard.js';
export { GRACE_MS, stopOnSignal, untilStopped, type StopOnSignal } from './stop-on-signal.js';
