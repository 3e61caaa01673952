import type { BatchError, BatchOption, BatchWords } from '@xception/batch';
import type { OptionWords, RuntimeError, RuntimeOption } from '@xception/runtime';
import type { TrainingError, TrainingOption, TrainingWords } from '@xception/training/node';
import { CliError, EXIT } from './cli-error.js';

const FLAGS: Record<RuntimeOption, string> = {
  weights: '--weights', engine: '--engine', imageSize: '--image-size', device: '--device', precision: '--precision',
  // int8's calibration photos: on the command line, a folder given to `xception quantize`.
  calibration: 'xception quantize --calibrate',
};
/** On the command line, no weights (the library's null) are `--weights none`. */
const valueOf = (option: RuntimeOption, value: string): string => (option === 'weights' && value === 'null' ? 'none' : option === 'calibration' ? 'DIR' : value);

/** @xception/runtime's options in this CLI's words: `--image-size 71`, `--engine onnx`, `--weights none`. */
export const flagWords: OptionWords = {
  option: (option, value) => `${FLAGS[option]} ${valueOf(option, value)}`,
  value: valueOf,
  // @xception/weights' sentences name its own options; here they are flags.
  reword: (text) => text
    .replace(/'imagenet', null, or /g, '--weights imagenet, --weights none, or ')
    .replace(/\bweights: null\b/g, '--weights none')
    .replace(/\bweights: '([^']*)'/g, '--weights $1'),
};

/** @xception/batch's options (and a model record's fields) as the flags that set them. */
const BATCH_FLAGS: Record<BatchOption, string> = {
  out: '--out', input: '--input', shard: '--shard', waitSeconds: '--wait-lock', staleSeconds: '--lock-stale', retryFailed: '--retry-failed',
  kind: 'command', weights: '--weights', top: 'top', inputSize: '--image-size', resize: '--resize', topK: '--top-k',
  parts: 'the shard result files after the output file', skipBadRows: '--skip-bad-rows', precision: '--precision',
  maxInputBytes: '--max-input-bytes', inputTimeout: '--input-timeout',
};

/** @xception/batch's options in this CLI's words: `--top-k 5`, "rerun the same command", "xception embed". */
export const batchFlagWords: BatchWords = {
  option: (option, value) => (value === undefined ? BATCH_FLAGS[option] : `${BATCH_FLAGS[option]} ${value}`),
  command: 'command',
  writer: (file) => (file === 'embed' ? 'xception embed' : 'xception classify or embed'),
};

const TRAINING_FLAGS: Record<TrainingOption, string> = { data: '--data', out: '--out', validationSplit: '--val-split' };

/** @xception/training's trainClassifier options in `xception train`'s words: `--data DIR`, `--val-split 0.5`. */
export const trainingFlagWords: TrainingWords = {
  name: (option) => TRAINING_FLAGS[option],
  option: (option, value) => `${TRAINING_FLAGS[option]} ${value}`,
};

/**
 * The CLI's one hook for the packages' typed errors: a RuntimeError, BatchError or
 * TrainingError becomes a CliError in flag words. Options' mistakes exit as usage errors (an
 * unreadable image, engine or output as errors); a weights error keeps @xception/weights' code.
 * Other errors pass through. Duck-typed, so that the CLI's start loads no engine, no batch
 * machinery and no training.
 */
export function inFlagWords(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'BatchError') {
    const e = error as BatchError;
    return new CliError(e.code, e.describe(batchFlagWords), e.isOptionsError ? EXIT.usage : EXIT.error);
  }
  if (error.name === 'TrainingError') {
    const e = error as TrainingError;
    return new CliError(e.code, e.describe(trainingFlagWords), e.code === 'ERR_TRAIN_IMAGE' ? EXIT.error : EXIT.usage);
  }
  if (error.name !== 'RuntimeError') return error;
  const e = error as RuntimeError;
  const cause = (e.cause as { code?: unknown } | undefined)?.code;
  const code = e.code === 'ERR_RUNTIME_WEIGHTS' && typeof cause === 'string' ? cause : e.code;
  return new CliError(code, e.describe(flagWords), e.code === 'ERR_RUNTIME_OPTIONS' ? EXIT.usage : EXIT.error);
}
