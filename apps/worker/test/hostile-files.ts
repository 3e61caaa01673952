import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * A folder of inputs that break things, made fresh for each test, with the error each must
 * end up as (by the worker's own classification of what happened).
 */
export function makeHostileFolder(dir: string, aRealJpeg: string): { expectOk: string[]; expectFailed: string[] } {
  mkdirSync(dir, { recursive: true });
  const at = (name: string): string => join(dir, name);
  writeFileSync(at('zero-bytes.jpg'), '');
  const jpeg = readFileSync(aRealJpeg);
  writeFileSync(at('truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.length / 2)));
  writeFileSync(at('text.jpg'), 'this is not a photo\n');
  writeFileSync(at('bomb.png'), pngHeaderOnly(100_000, 100_000));
  // As root, permissions do not stop reading: a dangling symlink stands for an unreadable file.
  if (process.getuid?.() === 0) symlinkSync(join(dir, 'missing-target.jpg'), at('unreadable.jpg'));
  else {
    writeFileSync(at('unreadable.jpg'), jpeg);
    import('node:fs').then((fs) => fs.chmodSync(at('unreadable.jpg'), 0o000));
  }
  mkdirSync(at('folder.jpg'));
  copyFileSync(aRealJpeg, join(at('folder.jpg'), 'inside.jpg'));
  symlinkSync('loop.jpg', at('loop.jpg')); // a symlink to itself: ELOOP
  symlinkSync('.', at('dir-loop')); // a folder that contains itself
  execFileSync('mkfifo', [at('pipe.jpg')]); // opening it to read would block forever
  copyFileSync(aRealJpeg, at('fine.jpg'));
  return {
    expectOk: [at('fine.jpg'), join(at('folder.jpg'), 'inside.jpg')],
    expectFailed: ['zero-bytes.jpg', 'truncated.jpg', 'text.jpg', 'bomb.png', 'unreadable.jpg', 'loop.jpg', 'pipe.jpg'].map(at),
  };
}

/** A valid PNG signature and IHDR chunk announcing width x height, and no pixel data. */
function pngHeaderOnly(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const type = Buffer.from('IHDR');
  const chunk = Buffer.concat([Buffer.alloc(4), type, ihdr, Buffer.alloc(4)]);
  chunk.writeUInt32BE(13, 0);
  chunk.writeUInt32BE(crc32(Buffer.concat([type, ihdr])), 4 + 4 + 13); // after length, type and data
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk]);
}
