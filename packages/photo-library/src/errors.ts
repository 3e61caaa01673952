/** Every error the photo library raises on purpose; `code` is stable for callers (the desktop UI, the CLI). */
export type PhotoLibraryErrorCode = 'sidecar-unreadable' | 'sidecar-write-failed';

export class PhotoLibraryError extends Error {
  constructor(
    readonly code: PhotoLibraryErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PhotoLibraryError';
  }
}

/** An existing sidecar could not be parsed: it is left untouched rather than overwritten. */
export class SidecarUnreadableError extends PhotoLibraryError {
  constructor(path: string, detail: string, cause?: unknown) {
    super('sidecar-unreadable', `The sidecar '${path}' is not readable XMP (${detail}); it was left untouched: fix or move it, then re-tag.`, { cause });
    this.name = 'SidecarUnreadableError';
  }
}

export class SidecarWriteError extends PhotoLibraryError {
  constructor(path: string, cause: unknown) {
    super('sidecar-write-failed', `Could not write the sidecar '${path}' (${cause instanceof Error ? cause.message : String(cause)}); check that the folder is writable.`, { cause });
    this.name = 'SidecarWriteError';
  }
}
