import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { THUMBNAIL_SCHEME } from '../shared/api.js';
import { writeFileAtomic } from '@xception/photo-library';
import type { PathGuard } from './path-guard.js';

export type Resizer = (photo: string, size: number) => Promise<Uint8Array>;

/** sharp, imported on first use: EXIF-rotated, cover-cropped JPEG thumbnails. */
export const sharpResizer: Resizer = async (photo, size) => {
  const sharp = (await import('sharp')).default;
  return sharp(photo, { failOn: 'none' }).rotate().resize(size, size, { fit: 'cover' }).jpeg({ quality: 78 }).toBuffer();
};

export interface ThumbnailServiceOptions {
  cacheDir: string;
  guard: PathGuard;
  size?: number;
  resize?: Resizer;
}

/**
 * Serves `xthumb://photo/<encoded absolute path>` for the grid: only photos inside the added
 * folders (the guard), from a disk cache keyed by path, size and mtime. Photos are opened
 * read-only by the resizer; a photo that cannot be decoded gives a 404, never a crash.
 */
export function createThumbnailService(options: ThumbnailServiceOptions): { handle(url: string): Promise<Response> } {
  const size = options.size ?? 256;
  const resize = options.resize ?? sharpResizer;
  return {
    async handle(url) {
      const prefix = `${THUMBNAIL_SCHEME}://photo/`;
      if (!url.startsWith(prefix)) return new Response('not found', { status: 404 });
      let photo: string;
      try {
        photo = await options.guard.check(decodeURIComponent(url.slice(prefix.length).split(/[?#]/)[0]!));
      } catch {
        return new Response('forbidden', { status: 403 });
      }
      try {
        const info = await stat(photo);
        const key = createHash('sha256').update(`${photo}\0${info.size}\0${info.mtimeMs}\0${size}`).digest('hex');
        const cached = join(options.cacheDir, key.slice(0, 2), `${key}.jpg`);
        let body: Uint8Array | null = await readFile(cached).catch(() => null);
        if (!body) {
          body = await resize(photo, size);
          await mkdir(join(options.cacheDir, key.slice(0, 2)), { recursive: true });
          await writeFileAtomic(cached, body).catch(() => undefined);
        }
        return new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'image/jpeg', 'cache-control': 'max-age=31536000, immutable' } });
      } catch {
        return new Response('not found', { status: 404 });
      }
    },
  };
}
