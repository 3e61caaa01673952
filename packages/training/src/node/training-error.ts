import { WordedError } from '@xception/runtime';

/** The options of trainClassifier() an error can be about. */
export type TrainingOption = 'data' | 'out' | 'validationSplit';

/**
 * How a front door names trainClassifier's options: the library says `data: '/photos'`, the
 * CLI `--data /photos` (as @xception/runtime's OptionWords do for openModel's options).
 */
export interface TrainingWords {
  /** The option's name alone: `data`, `--data`. */
  name(option: TrainingOption): string;
  /** The option set to a value: `data: '/photos'`, `--data /photos`. */
  option(option: TrainingOption, value: string): string;
}

/** This library's words: its option names, strings quoted as in JavaScript. */
export const trainingLibraryWords: TrainingWords = {
  name: (option) => option,
  option: (option, value) => `${option}: ${option === 'validationSplit' ? value : `'${value}'`}`,
};

/**
 * - ERR_TRAIN_OUT: `out` does not name a .keras file.
 * - ERR_TRAIN_OPTION: an option is out of its range.
 * - ERR_TRAIN_DATA: the dataset cannot train a classifier (too few classes, an empty class, a bad class name, nothing left to train or validate on).
 * - ERR_TRAIN_IMAGE: an image of the dataset cannot be read.
 */
export type TrainingErrorCode = 'ERR_TRAIN_OUT' | 'ERR_TRAIN_OPTION' | 'ERR_TRAIN_DATA' | 'ERR_TRAIN_IMAGE';

/**
 * A user's mistake that stops training, said once here; each front door says it in its own
 * words with describe() (the CLI: its flags).
 */
export class TrainingError extends WordedError<TrainingErrorCode, TrainingOption, TrainingWords> {
  override readonly name = 'TrainingError';
  constructor(code: TrainingErrorCode, option: TrainingOption, sentence: (words: TrainingWords) => string) {
    super(code, option, sentence, trainingLibraryWords);
  }
}
