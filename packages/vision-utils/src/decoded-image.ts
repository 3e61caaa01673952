/** A photo decoded and resized for the model: packed 8-bit RGB, row-major (HWC). */
export interface DecodedImage {
  /** height × width × 3 bytes, RGB, alpha flattened onto the background. */
  readonly pixels: Uint8Array;
  readonly width: number;
  readonly height: number;
  /** Size of the upright photo before resizing (after EXIF orientation when autoOrient is on). */
  readonly originalWidth: number;
  readonly originalHeight: number;
  /** The container format the decoder found ('jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', ...). */
  readonly format: string;
  /** What the image was loaded from, for messages: a path, a File's name, or '<buffer of N bytes>'. */
  readonly source: string;
  /** The file path when loaded from a file. */
  readonly path?: string;
}
