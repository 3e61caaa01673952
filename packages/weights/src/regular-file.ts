import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** Why a path was not read: not a regular file (a FIFO, a device, a folder), or larger than allowed. */
export class NotARegularFileError extends Error {
  constructor(readonly path: string, readonly kind: string) {
    super(`${path} is ${kind}, not a regular file`);
    this.name = 'NotARegularFileError';
  }
}

export class FileTooLargeError extends Error {
  constructor(readonly path: string, readonly bytes: number, readonly maxBytes: number) {
    super(`${path} holds ${bytes} bytes, more than the ${maxBytes} it can need`);
    this.name = 'FileTooLargeError';
  }
}

/**
 * The whole of a regular file of at most `maxBytes`, read through one handle: opened without
 * blocking (a FIFO would otherwise wait for a writer forever), checked with fstat on that same
 * handle (a symlink to /dev/zero is a character device, and would otherwise read without end),
 * then read for exactly the size fstat gave. Errors of open and read (ENOENT, EACCES...) pass
 * through for the caller to word.
 */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new NotARegularFileError(path, fileKind(info));
    if (info.size > maxBytes) throw new FileTooLargeError(path, info.size, maxBytes);
    const bytes = Buffer.alloc(info.size);
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break; // the file shrank while read: the size checks downstream say so
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

function fileKind(info: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'a special file';
}
