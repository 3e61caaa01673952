/**
 * Typed errors for weight files and downloads. Each message is one sentence saying what is
 * wrong, where (the file or URL, and the layer when there is one) and what to do, so that a CLI
 * or app can print `error.message` without a stack trace.
 */

export type WeightsFileErrorCode =
  | 'ERR_WEIGHTS_NOT_FOUND'
  | 'ERR_WEIGHTS_NOT_HDF5'
  | 'ERR_WEIGHTS_TRUNCATED'
  | 'ERR_WEIGHTS_FORMAT'
  | 'ERR_WEIGHTS_LAYER_MISSING'
  | 'ERR_WEIGHTS_SHAPE'
  | 'ERR_WEIGHTS_NON_FINITE'
  | 'ERR_WEIGHTS_SHARD_PATH'
  | 'ERR_WEIGHTS_SHARD_SIZE'
  | 'ERR_WEIGHTS_MANIFEST'
  | 'ERR_WEIGHTS_NO_TOP'
  | 'ERR_WEIGHTS_CHANGED';

export type WeightsDownloadErrorCode =
  | 'ERR_DOWNLOAD_OFFLINE'
  | 'ERR_DOWNLOAD_HTTP'
  | 'ERR_DOWNLOAD_HASH'
  | 'ERR_DOWNLOAD_TRUNCATED';

export interface WeightsErrorDetails {
  /** The local file concerned (a weights file, a shard, or the cache path to fill by hand). */
  path?: string;
  /** The address concerned, for downloads and remote artifacts. */
  url?: string;
  /** The Keras layer concerned, in the file's own naming. */
  layer?: string;
  cause?: unknown;
}

/** A weights file (HDF5 or tfjs artifacts) cannot be used: no model is built from it. */
export class WeightsFileError extends Error {
  readonly code: WeightsFileErrorCode;
  readonly path: string | undefined;
  readonly url: string | undefined;
  readonly layer: string | undefined;
  constructor(code: WeightsFileErrorCode, message: string, details: WeightsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WeightsFileError';
    this.code = code;
    this.path = details.path;
    this.url = details.url;
    this.layer = details.layer;
  }
}

/** A weights download failed; nothing was written to the cache. */
export class WeightsDownloadError extends Error {
  readonly code: WeightsDownloadErrorCode;
  readonly path: string | undefined;
  readonly url: string | undefined;
  readonly layer: undefined;
  constructor(code: WeightsDownloadErrorCode, message: string, details: WeightsErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WeightsDownloadError';
    this.code = code;
    this.path = details.path;
    this.url = details.url;
  }
}
