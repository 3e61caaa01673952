import { WordedError } from './worded-error.js';

/** The options of openModel() an error can be about. */
export type RuntimeOption = 'weights' | 'engine' | 'imageSize' | 'device' | 'precision' | 'calibration';

/**
 * How a front door names the options: the library says `imageSize: 128` and `'imagenet'`,
 * the CLI `--image-size 128` and `imagenet`, the desktop app "the 'onnx' engine".
 */
export interface OptionWords {
  /** An option set to a value: `imageSize: 128`, `--image-size 128`. */
  option(option: RuntimeOption, value: string): string;
  /** A value alone: `'imagenet'`, `imagenet`. */
  value(option: RuntimeOption, value: string): string;
  /** Re-words a lower package's sentence quoted inside (@xception/weights names its own options: `weights: null`). */
  reword?(text: string): string;
}

/** This library's words: its option names, values quoted as in JavaScript. */
export const libraryWords: OptionWords = {
  option: (option, value) => `${option}: ${quoted(option, value)}`,
  value: (option, value) => quoted(option, value),
};

const quoted = (option: RuntimeOption, value: string): string => {
  if (option === 'calibration') return '[...photo paths]'; // the sentences' placeholder for the photos
  return option === 'imageSize' || value === 'null' ? value : `'${value}'`;
};

/**
 * - ERR_RUNTIME_OPTIONS: the options contradict each other or Keras' rules (imageSize with 'imagenet').
 * - ERR_RUNTIME_WEIGHTS: the weights cannot be found, downloaded or read (`cause` keeps @xception/weights' typed error).
 * - ERR_ENGINE_UNAVAILABLE: the engine asked for cannot load here (`cause` keeps @xception/engines' EngineError).
 * - ERR_DEVICE_UNAVAILABLE: device 'cuda' was asked for, and the NVIDIA driver or onnxruntime's CUDA provider is missing.
 * - ERR_INT8_AGREEMENT: precision 'int8' was asked for, and the int8 model agrees with fp32 on fewer held-out photos than the bound (0.98 top-1).
 */
export type RuntimeErrorCode = 'ERR_RUNTIME_OPTIONS' | 'ERR_RUNTIME_WEIGHTS' | 'ERR_ENGINE_UNAVAILABLE' | 'ERR_DEVICE_UNAVAILABLE' | 'ERR_INT8_AGREEMENT';

/**
 * A typed failure to open the model. `option` says which option it is about; the sentence is
 * written once, here, and each front door says it in its own words with describe().
 */
export class RuntimeError extends WordedError<RuntimeErrorCode, RuntimeOption, OptionWords> {
  override readonly name = 'RuntimeError';
  constructor(code: RuntimeErrorCode, option: RuntimeOption, sentence: (words: OptionWords) => string, options: { cause?: unknown } = {}) {
    super(code, option, sentence, libraryWords, options);
  }
}

/** The first line of an error's message, without its full stop, for wrapping it into one sentence. */
export function reasonOf(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!.replace(/\.$/, '');
}
