/**
 * The options of @xception/batch an error can be about: a results file's path (`out`), readNpy's
 * path (`input`), resolveShard's spec (`shard`), lockOutput's `waitSeconds` and `staleSeconds`, retrying failed rows
 * (`retryFailed`), the fields of a ModelRecord (what a resumed output must agree with), and
 * mergeResults' `parts` and `skipBadRows`.
 */
export type BatchOption = 'out' | 'input' | 'shard' | 'waitSeconds' | 'staleSeconds' | 'retryFailed' | 'kind' | 'weights' | 'top' | 'inputSize' | 'resize' | 'topK' | 'parts' | 'skipBadRows'
  | 'precision' | 'maxInputBytes' | 'inputTimeout';

/**
 * How a front door names the options and the job: the library says `topK: 5` and "run the job
 * again", the CLI `--top-k 5` and "rerun the same command".
 */
export interface BatchWords {
  /** An option alone (`output path`, `--out`), or set to a value (`topK: 5`, `--top-k 5`). */
  option(option: BatchOption, value?: string): string;
  /** What the user runs to write a file again: `job`, `command`. */
  readonly command: string;
  /** What writes the .npy embedding journal, or a Parquet file: `EmbeddingJournal`, `xception embed`. */
  writer(file: 'embed' | 'parquet'): string;
}

const LIBRARY_NAMES: Record<BatchOption, string> = {
  out: 'output path', input: 'input', shard: 'shard', waitSeconds: 'waitSeconds', staleSeconds: 'staleSeconds', retryFailed: 'retryFailed: true',
  kind: 'kind', weights: 'weights', top: 'top', inputSize: 'inputSize', resize: 'resize', topK: 'topK',
  parts: 'parts (the shards\' results files)', skipBadRows: 'skipBadRows: true', precision: 'precision',
  maxInputBytes: 'urls.maxBytes', inputTimeout: 'urls.timeoutMs',
};

/** This library's words: its option and field names, `name: value`. */
export const libraryWords: BatchWords = {
  option: (option, value) => (value === undefined ? LIBRARY_NAMES[option] : `${LIBRARY_NAMES[option]}: ${value}`),
  command: 'job',
  writer: (file) => (file === 'embed' ? "@xception/batch's EmbeddingJournal" : "@xception/batch's writeParquet"),
};

/**
 * - ERR_OUTPUT_*: the output cannot be created, written, locked or resumed (another model, other
 *   columns, another writer holds it), or an s3:// output cannot be checked or uploaded (ERR_OUTPUT_UPLOAD).
 * - ERR_NPY_*, ERR_PARQUET_FORMAT: a file is not what it should be.
 * - ERR_MERGE_*: the parts of a sharded run cannot be merged (ERR_MERGE_INVALID: no parts, mixed
 *   formats, or an output that exists).
 * - ERR_INPUT_*: one input (a URL, a tar member, an s3:// object) cannot be read: missing, an HTTP
 *   error status, over the size cap, denied, timed out or unreadable after retries, a tar member cut
 *   short or corrupt; it becomes an error row and the run goes on. ERR_INPUT_URL_INVALID: not an
 *   s3://bucket/prefix URL.
 * - ERR_SHARD_INVALID, ERR_OUTPUT_FORMAT, ERR_OUTPUT_LOCK_OPTION, ERR_MERGE_INVALID, ERR_INPUT_URL_INVALID: the options are wrong (a front door's usage error).
 */
export type BatchErrorCode =
  | 'ERR_OUTPUT_UNWRITABLE' | 'ERR_OUTPUT_WRITE' | 'ERR_OUTPUT_SHORT_WRITE' | 'ERR_OUTPUT_MISMATCH' | 'ERR_OUTPUT_OTHER_MODEL'
  | 'ERR_OUTPUT_LOCKED' | 'ERR_OUTPUT_LOCK_LOST' | 'ERR_OUTPUT_LOCK_OPTION' | 'ERR_OUTPUT_FORMAT' | 'ERR_OUTPUT_UPLOAD'
  | 'ERR_NPY_UNREADABLE' | 'ERR_NPY_FORMAT' | 'ERR_PARQUET_FORMAT'
  | 'ERR_MERGE_MISMATCH' | 'ERR_MERGE_PART_MISSING' | 'ERR_MERGE_BAD_ROWS' | 'ERR_MERGE_INVALID'
  | 'ERR_SHARD_INVALID'
  | 'ERR_INPUT_HTTP_STATUS' | 'ERR_INPUT_TOO_LARGE' | 'ERR_INPUT_TIMEOUT' | 'ERR_INPUT_NETWORK' | 'ERR_INPUT_TAR_TRUNCATED' | 'ERR_INPUT_TAR_CORRUPT'
  | 'ERR_INPUT_URL_INVALID' | 'ERR_INPUT_MISSING' | 'ERR_INPUT_DENIED' | 'ERR_INPUT_UNREADABLE';

/** The codes that mean the caller's options are wrong, not the files. */
export const OPTION_ERROR_CODES: ReadonlySet<BatchErrorCode> = new Set(['ERR_SHARD_INVALID', 'ERR_OUTPUT_FORMAT', 'ERR_OUTPUT_LOCK_OPTION', 'ERR_MERGE_INVALID', 'ERR_INPUT_URL_INVALID']);

/**
 * A typed failure of a batch job. The sentence is written once, here in the package, and each
 * front door says it in its own words with describe(); `message` is the library's words.
 */
export class BatchError extends Error {
  override readonly name = 'BatchError';
  /** The caller's options are wrong (OPTION_ERROR_CODES), not the files: a CLI's usage error. */
  readonly isOptionsError: boolean;
  constructor(
    readonly code: BatchErrorCode,
    private readonly sentence: (words: BatchWords) => string,
    options: { cause?: unknown } = {},
  ) {
    super(sentence(libraryWords), options.cause === undefined ? undefined : { cause: options.cause });
    this.isOptionsError = OPTION_ERROR_CODES.has(code);
  }

  /** One sentence, naming the options the way the caller's interface does. */
  describe(words: BatchWords): string {
    return this.sentence(words);
  }
}
