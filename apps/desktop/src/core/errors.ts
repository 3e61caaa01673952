/**
 * Every error the app's main process raises on purpose; `code` is stable for the UI. `ERR_*`,
 * as every package's codes are (the photo library's sidecar errors reach the UI with theirs).
 */
export type DesktopErrorCode =
  | 'ERR_PATH_OUTSIDE_LIBRARY'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CLASSIFIER_FAILED'
  | 'ERR_ENGINE_UNAVAILABLE'
  /** int8 was refused by its agreement check against fp32; tagging goes on in fp32. */
  | 'ERR_PRECISION_REFUSED'
  /** int8 cannot run with these settings or here (another engine, no onnxruntime, no photos to calibrate on); tagging goes on in fp32. */
  | 'ERR_PRECISION_UNAVAILABLE'
  | 'ERR_NOT_ENOUGH_EXAMPLES';

export class DesktopError extends Error {
  constructor(
    readonly code: DesktopErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DesktopError';
  }
}

/** A renderer asked about a path that is not inside any folder the user added. */
export class PathOutsideLibraryError extends DesktopError {
  constructor(path: string) {
    super('ERR_PATH_OUTSIDE_LIBRARY', `The path '${path}' is not inside a folder added to the library; add its folder first.`);
    this.name = 'PathOutsideLibraryError';
  }
}

/** An IPC argument failed validation. */
export class InvalidArgumentError extends DesktopError {
  constructor(channel: string, detail: string) {
    super('ERR_INVALID_ARGUMENT', `Invalid argument to '${channel}': ${detail}; the renderer must send what the preload API types say.`);
    this.name = 'InvalidArgumentError';
  }
}

export class ClassifierError extends DesktopError {
  constructor(photo: string, cause: unknown) {
    super('ERR_CLASSIFIER_FAILED', `Could not tag '${photo}' (${messageOf(cause)}); the photo may be damaged or not an image.`, { cause });
    this.name = 'ClassifierError';
  }
}

/** "Teach a tag" was pressed with too few examples (hand-tagged photos the model has run on) or counter-examples. */
export class NotEnoughExamplesError extends DesktopError {
  constructor(message: string) {
    super('ERR_NOT_ENOUGH_EXAMPLES', message);
    this.name = 'NotEnoughExamplesError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The photo library's own errors (sidecars), with their own ERR_SIDECAR_* codes.
export { SidecarUnreadableError, SidecarWriteError } from '@xception/photo-library';
