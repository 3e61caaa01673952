import { inflateSync } from 'fflate';

const END_OF_DIRECTORY = 0x06054b50;
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATED = 8;

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
 * a deflated one is inflated by fflate. Our own reader of the directory (about 60 lines) because
 * fflate's unzipSync copies stored entries too (an 83 MB copy for a full-size .keras, ~0.4 s)
 * and tells no offsets, and its streaming Unzip trusts local headers, which data descriptors
 * leave without sizes. Throws a plain Error saying what is wrong; callers word it.
 */
export function readZipEntries(bytes: Uint8Array, wanted: (name: string) => boolean): Record<string, Uint8Array> {
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
      out[name] = inflateSync(data, { out: new Uint8Array(size) });
    } else {
      throw new Error(`${name} uses compression method ${method}; only stored and deflated entries are read`);
    }
  }
  return out;
}
