import { loadImageInBrowser, type BrowserImageSource, type ResizeMode } from '@xception/vision-utils/browser';

/**
 * What classify() and embed() take in a browser: a URL (absolute, or relative to the page),
 * encoded bytes (Blob, File, ArrayBuffer, Uint8Array), or what the page already has on screen
 * (HTMLImageElement, ImageBitmap, ImageData, a canvas or an OffscreenCanvas).
 */
export type BrowserImageInput = string | URL | Blob | ArrayBuffer | Uint8Array | ImageData | BrowserImageSource;

/** Decodes one input to size x size RGB bytes with the browser's decoder (vision-utils' loadImageInBrowser). */
export async function decodeBrowserInput(input: BrowserImageInput, size: number, resize: ResizeMode): Promise<Uint8Array> {
  const options = { size: [size, size] as const, resize };
  if (typeof input === 'string' || input instanceof URL) {
    const url = new URL(String(input), globalThis.location?.href);
    const response = await fetch(url.href).catch((error: unknown) => { throw new Error(`it could not be fetched (${(error as Error).message}); check the address and CORS`); });
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}; check the address`);
    return (await loadImageInBrowser(await response.blob(), options)).pixels;
  }
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return (await loadImageInBrowser(new Blob([input as BlobPart]), options)).pixels;
  if (typeof ImageData !== 'undefined' && input instanceof ImageData) {
    const bitmap = await createImageBitmap(input);
    try {
      return (await loadImageInBrowser(bitmap, options)).pixels;
    } finally {
      bitmap.close();
    }
  }
  return (await loadImageInBrowser(input as BrowserImageSource, options)).pixels;
}

export function describeBrowserInput(input: BrowserImageInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  if (typeof File !== 'undefined' && input instanceof File) return input.name || `a File of ${input.size} bytes`;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return `a Blob of ${input.size} bytes`;
  if (input instanceof ArrayBuffer || ArrayBuffer.isView(input)) return `${input.constructor.name} of ${input.byteLength} bytes`;
  if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement) return input.currentSrc || input.src || 'an <img>';
  return `a ${(input as object)?.constructor?.name ?? typeof input}`;
}

export function isBrowserInputArray(value: unknown): value is readonly BrowserImageInput[] {
  return Array.isArray(value);
}
