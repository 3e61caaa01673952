import { fileURLToPath } from 'node:url';
import { loadImage, type ResizeMode } from '@xception/vision-utils/node';

/** What classify() and embed() take in Node: a path, a URL, or the bytes of an image file. */
export type NodeImageInput = string | URL | Uint8Array | ArrayBuffer | Blob;

const isHttp = (text: string): boolean => /^https?:\/\//i.test(text);

/** Decodes one input to size x size RGB bytes with sharp (vision-utils), as `xception classify` does. */
export async function decodeNodeInput(input: NodeImageInput, size: number, resize: ResizeMode): Promise<Uint8Array> {
  const options = { size: [size, size] as const, resize };
  return (await loadImage(await readable(input), options)).pixels;
}

async function readable(input: NodeImageInput): Promise<string | Uint8Array | ArrayBuffer> {
  if (input instanceof URL || (typeof input === 'string' && isHttp(input))) {
    const url = input instanceof URL ? input : new URL(input);
    if (url.protocol === 'file:') return fileURLToPath(url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} addresses are not read; pass an http(s) or file URL, a path, or the image's bytes`);
    const response = await fetch(url).catch((error: unknown) => { throw new Error(`it could not be fetched (${(error as Error).message}); check the address and the network`); });
    if (!response.ok) throw new Error(`the server answered HTTP ${response.status}; check the address`);
    return new Uint8Array(await response.arrayBuffer());
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) return new Uint8Array(await input.arrayBuffer());
  return input as string | Uint8Array | ArrayBuffer;
}

/** For messages: the path or URL, or the kind and size of the bytes. */
export function describeNodeInput(input: NodeImageInput): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  if (typeof Blob !== 'undefined' && input instanceof Blob) return `a Blob of ${input.size} bytes`;
  if (input instanceof ArrayBuffer) return `an ArrayBuffer of ${input.byteLength} bytes`;
  if (ArrayBuffer.isView(input)) return `${input.constructor.name === 'Buffer' ? 'a Buffer' : 'a Uint8Array'} of ${input.byteLength} bytes`;
  return `a ${input === null ? 'null' : typeof input}`;
}

/** An array of inputs, as opposed to one input (whose bytes may be a Uint8Array). */
export function isInputArray(value: unknown): value is readonly NodeImageInput[] {
  return Array.isArray(value);
}
