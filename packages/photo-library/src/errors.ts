/** Every error the photo library raises on purpose; `code` is stable for callers (the desktop UI, the CLI). */
export type PhotoLibraryErrorCode = 'ERR_SIDECAR_UNREADABLE' | 'ERR_SIDECAR_WRITE_FAILED' | 'ERR_SIDECAR_SYMLINK_OUTSIDE' | 'ERR_SIDECAR_TOO_LARGE' | 'ERR_TAG_UNUSABLE';

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
    super('ERR_SIDECAR_UNREADABLE', `The sidecar '${path}' is not readable XMP (${detail}); it was left untouched: fix or move it, then re-tag.`, { cause });
    this.name = 'SidecarUnreadableError';
  }
}

export class SidecarWriteError extends PhotoLibraryError {
  constructor(path: string, cause: unknown) {
    super('ERR_SIDECAR_WRITE_FAILED', `Could not write the sidecar '${path}' (${cause instanceof Error ? cause.message : String(cause)}); check that the folder is writable.`, { cause });
    this.name = 'SidecarWriteError';
  }
}

/** A sidecar that is a symlink to a file outside the photo's folder: neither followed nor replaced. */
export class SidecarSymlinkError extends PhotoLibraryError {
  constructor(path: string, target: string) {
    super('ERR_SIDECAR_SYMLINK_OUTSIDE', `The sidecar '${path}' is a symlink to '${target}', outside the photo's folder; it was left untouched: put the sidecar itself beside the photo, then re-tag.`);
    this.name = 'SidecarSymlinkError';
  }
}

/** A sidecar over the size a real one needs (MAX_SIDECAR_BYTES): refused before it is parsed. */
export class SidecarTooLargeError extends PhotoLibraryError {
  constructor(path: string, size: number, limit: number) {
    super('ERR_SIDECAR_TOO_LARGE', `The sidecar '${path}' is ${(size / 2 ** 20).toFixed(1)} MiB, over the ${limit / 2 ** 20} MiB a sidecar may have; it was left untouched: trim its keywords in another tool, or move it away, then re-tag.`);
    this.name = 'SidecarTooLargeError';
  }
}

/** Text that cannot go into a sidecar as a tag or class name (a character XML 1.0 cannot hold, a control character). */
export class UnusableTagError extends PhotoLibraryError {
  constructor(message: string) {
    super('ERR_TAG_UNUSABLE', message);
    this.name = 'UnusableTagError';
  }
}
