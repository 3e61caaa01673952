/** Every error the app's main process raises on purpose; `code` is stable for the UI. */
export type DesktopErrorCode =
  | 'path-outside-library'
  | 'invalid-argument'
  | 'sidecar-unreadable'
  | 'sidecar-write-failed'
  | 'index-unreadable'
  | 'classifier-failed'
  | 'weights-offline'
  | 'weights-unavailable'
  | 'engine-unavailable'
  | 'not-enough-examples';

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
    super('path-outside-library', `The path '${path}' is not inside a folder added to the library; add its folder first.`);
    this.name = 'PathOutsideLibraryError';
  }
}

/** An IPC argument failed validation. */
export class InvalidArgumentError extends DesktopError {
  constructor(channel: string, detail: string) {
    super('invalid-argument', `Invalid argument to '${channel}': ${detail}; the renderer must send what the preload API types say.`);
    this.name = 'InvalidArgumentError';
  }
}

export class ClassifierError extends DesktopError {
  constructor(photo: string, cause: unknown) {
    super('classifier-failed', `Could not tag '${photo}' (${messageOf(cause)}); the photo may be damaged or not an image.`, { cause });
    this.name = 'ClassifierError';
  }
}

/** "Teach a tag" was pressed with too few examples (hand-tagged photos the model has run on) or counter-examples. */
export class NotEnoughExamplesError extends DesktopError {
  constructor(message: string) {
    super('not-enough-examples', message);
    this.name = 'NotEnoughExamplesError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// The photo library's own errors (sidecars), under the same codes.
export { SidecarUnreadableError, SidecarWriteError } from '@xception/photo-library';
