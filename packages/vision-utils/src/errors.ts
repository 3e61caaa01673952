/**
 * Typed errors. Each message is one sentence that says what is wrong, where (the file, buffer or
 * argument) and what to do, so that a CLI or an app can show it as is; `code` is for programs.
 */

export type ImageDecodeErrorCode =
  | 'ERR_IMAGE_EMPTY'
  | 'ERR_IMAGE_TRUNCATED'
  | 'ERR_IMAGE_NOT_AN_IMAGE'
  | 'ERR_IMAGE_UNSUPPORTED'
  | 'ERR_IMAGE_TOO_LARGE'
  | 'ERR_IMAGE_UNREADABLE'
  | 'ERR_IMAGE_TIMEOUT';

export type VisionUtilsErrorCode =
  | ImageDecodeErrorCode
  | 'ERR_IMAGE_OPTIONS'
  | 'ERR_SHARP_MISSING'
  | 'ERR_PREPROCESS_MODE'
  | 'ERR_PREPROCESS_INPUT'
  | 'ERR_DECODE_PREDICTIONS_SHAPE'
  | 'ERR_DECODE_PREDICTIONS_TOP';

export class VisionUtilsError extends Error {
  readonly code: VisionUtilsErrorCode;
  constructor(code: VisionUtilsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A photo could not be turned into pixels. `source` names it: the file path, the File's name, or
 * a description such as "<buffer of 1234 bytes>" when the caller handed over bytes.
 */
export class ImageDecodeError extends VisionUtilsError {
  declare readonly code: ImageDecodeErrorCode;
  readonly source: string;
  /** The file path when the image came from a file, so callers can report or skip it. */
  readonly path: string | undefined;
  constructor(code: ImageDecodeErrorCode, source: string, message: string, options?: { cause?: unknown; path?: string }) {
    super(code, `${source}: ${message}`, options);
    this.source = source;
    this.path = options?.path;
  }
}

/** An option handed to loadImage / loadImageInBrowser / resizePlan is out of its domain. */
export class ImageOptionsError extends VisionUtilsError {
  constructor(message: string) {
    super('ERR_IMAGE_OPTIONS', message);
  }
}

/** preprocessInput got a mode it does not know, or an input it cannot scale. */
export class PreprocessError extends VisionUtilsError {
  constructor(code: 'ERR_PREPROCESS_MODE' | 'ERR_PREPROCESS_INPUT', message: string) {
    super(code, message);
  }
}

/** decodePredictions got something that is not a batch of 1000-class scores, or a bad `top`. */
export class DecodePredictionsError extends VisionUtilsError {
  constructor(code: 'ERR_DECODE_PREDICTIONS_SHAPE' | 'ERR_DECODE_PREDICTIONS_TOP', message: string) {
    super(code, message);
  }
}
