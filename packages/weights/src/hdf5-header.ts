import { open } from 'node:fs/promises';

/**
 * The few bytes of an HDF5 superblock that tell whether a file is HDF5 at all and how long it
 * claims to be. h5wasm reads everything else; this check runs first because the HDF5 C library
 * reports a cut-off file only as an opaque failure (or reads zeros past the end), and a
 * truncated download must be named as such.
 */
export interface Hdf5Header {
  /** Where the signature sits: 0, or 512, 1024, ... after a user block. */
  readonly offset: number;
  readonly superblockVersion: number;
  /** Bytes the superblock says the file has (base address + end-of-file address). */
  readonly declaredBytes: number;
  readonly actualBytes: number;
}

const SIGNATURE = Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Returns null when no HDF5 signature is found where the format allows one. */
export async function readHdf5Header(path: string): Promise<Hdf5Header | null> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    for (let offset = 0; offset + 64 <= size; offset = offset === 0 ? 512 : offset * 2) {
      const block = Buffer.alloc(64);
      await handle.read(block, 0, 64, offset);
      if (!block.subarray(0, 8).equals(SIGNATURE)) continue;
      const version = block[8]!;
      let sizeOfOffsets: number;
      let baseAt: number;
      if (version === 0 || version === 1) {
        sizeOfOffsets = block[13]!;
        baseAt = version === 0 ? 24 : 28;
        // v0/v1: base, free-space, end-of-file, driver addresses follow in that order.
        return header(offset, version, block, sizeOfOffsets, baseAt, baseAt + 2 * sizeOfOffsets, size);
      }
      if (version === 2 || version === 3) {
        sizeOfOffsets = block[9]!;
        baseAt = 12;
        // v2/v3: base, superblock-extension, end-of-file addresses.
        return header(offset, version, block, sizeOfOffsets, baseAt, baseAt + 2 * sizeOfOffsets, size);
      }
      return { offset, superblockVersion: version, declaredBytes: size, actualBytes: size };
    }
    return null;
  } finally {
    await handle.close();
  }
}

function header(offset: number, version: number, block: Buffer, sizeOfOffsets: number, baseAt: number, eofAt: number, size: number): Hdf5Header {
  const address = (at: number): number => (sizeOfOffsets === 8 ? Number(block.readBigUInt64LE(at)) : block.readUInt32LE(at));
  const base = address(baseAt);
  const eof = address(eofAt);
  return { offset, superblockVersion: version, declaredBytes: base + eof, actualBytes: size };
}
