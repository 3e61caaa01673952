import { inflateRawSync } from 'node:zlib';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;
/** Deflate's densest output: 258 bytes per 2 bits (about 1032 to 1), plus a block header's slack. */
const DEFLATE_MAX_RATIO = 1032;

/**
 * An entry that is larger than the caller allows, or than its compressed bytes can hold (a zip
 * bomb, or a lying size field): thrown before a byte is allocated for it, or as soon as inflating
 * passes its declared size.
 */
export class ZipEntryTooLargeError extends Error {
  constructor(readonly entry: string, readonly declaredBytes: number, readonly limitBytes: number, message: string) {
    super(message);
    this.name = 'ZipEntryTooLargeError';
  }
}

/**
 * Where the zip's end-of-central-directory record starts, or -1 where there is none (an archive
 * cut short): it lies within the last 64 KiB + 22 bytes.
 */
export function endOfDirectory(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65_557); i--) if (view.getUint32(i, true) === END_OF_DIRECTORY) return i;
  return -1;
}

/**
 * The wanted entries of a zip archive held in memory, found through its central directory. A
 * stored entry (method 0: Keras writes its .keras archives so) is a view of `bytes`, not a copy;
 * a deflated one is inflated by node:zlib, whose maxOutputLength stops inflating at the declared
 * size (a lying size field costs no more than the declared bytes). `maxBytes(name)` caps each
 * wanted entry: the declared size is checked against it, and against what the compressed bytes
 * can inflate to, before anything is allocated. Our own reader of the directory (about 60 lines) because
 * fflate's unzipSync copies stored entries too (an 83 MB copy for a full-size .keras, ~0.4 s)
 * and tells no offsets, and its streaming Unzip trusts local headers, which data descriptors
 * leave without sizes. Throws a plain Error saying what is wrong; callers word it.
 */
export function readZipEntries(bytes: Uint8Array, wanted: (name: string) => boolean, maxBytes: (name: string) => number = () => 2 ** 31): Record<string, Uint8Array> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (at: number): number => view.getUint16(check(at, 2), true);
  const u32 = (at: number): number => view.getUint32(check(at, 4), true);
  const check = (at: number, size: number): number => {
    if (at < 0 || at + size > bytes.length) throw new Error(`the zip structure points past the end of the file (offset ${at})`);
    return at;
  };

  const end = endOfDirectory(bytes);
  if (end < 0) throw new Error('no end of central directory record');
  const count = u16(end + 10);
  const directory = u32(end + 16);
  // Zip64 directories (65,535 entries or more, or past 4 GiB) are not read: a .keras of
  // Xception is three entries and under 100 MB. (Zip64 fields in local headers are skipped.)
  const zip64 = (): never => { throw new Error('it is a zip64 archive (over 4 GiB or 65,535 entries), which is not read here'); };
  if (count === 0xffff || directory === 0xffffffff) zip64();

  const names = new TextDecoder();
  const out: Record<string, Uint8Array> = {};
  let at = directory;
  for (let n = 0; n < count; n++) {
    if (u32(at) !== DIRECTORY_ENTRY) throw new Error(`no central directory entry at offset ${at}`);
    const method = u16(at + 10);
    const compressed = u32(at + 20);
    const size = u32(at + 24);
    const nameLength = u16(at + 28);
    const local = u32(at + 42);
    if (compressed === 0xffffffff || size === 0xffffffff || local === 0xffffffff) zip64();
    const name = names.decode(bytes.subarray(check(at + 46, nameLength), at + 46 + nameLength));
    at += 46 + nameLength + u16(at + 30) + u16(at + 32);
    if (!wanted(name)) continue;
    if (u32(local) !== LOCAL_HEADER) throw new Error(`no local header for ${name} at offset ${local}`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    const data = bytes.subarray(check(start, compressed), start + compressed);
    if (method === STORED) {
      if (compressed !== size) throw new Error(`${name} is stored but its sizes differ (${compressed} and ${size} bytes)`);
      out[name] = data;
    } else if (method === DEFLATED) {
      out[name] = inflateEntry(name, data, size, maxBytes(name));
    } else {
      throw new Error(`${name} uses compression method ${method}; only stored and deflated entries are read`);
    }
  }
  return out;
}

/** A deflated entry, refused before inflating when its declared size is over `cap` or impossible. */
function inflateEntry(name: string, data: Uint8Array, size: number, cap: number): Uint8Array {
  if (size > cap) {
    throw new ZipEntryTooLargeError(name, size, cap, `${name} declares ${size} bytes uncompressed, more than the ${cap} bytes such an entry can need`);
  }
  if (size > data.length * DEFLATE_MAX_RATIO + 1024) {
    throw new ZipEntryTooLargeError(name, size, cap, `${name} declares ${size} bytes uncompressed, more than its ${data.length} compressed bytes can hold`);
  }
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(data, { maxOutputLength: Math.max(1, size) });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ZipEntryTooLargeError(name, size, cap, `${name} inflates to more than the ${size} bytes its size field declares`);
    }
    throw new Error(`${name} is not valid deflate data (${(error as Error).message})`);
  }
  if (inflated.length !== size) throw new Error(`${name} inflates to ${inflated.length} bytes, not the ${size} its size field declares`);
  return inflated;
}
