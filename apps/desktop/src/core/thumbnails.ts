import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { THUMBNAIL_SCHEME } from '../shared/api.js';
import { writeFileAtomic } from '@xception/photo-library';
import type { PathGuard } from './path-guard.js';

export type Resizer = (photo: string, size: number) => Promise<Uint8Array>;

/** The grid's thumbnail side; the tagging decode makes thumbnails of this size too (engine-classifier's thumbnailSize). */
export const THUMBNAIL_SIZE = 256;

/**
 * sharp, imported on first use: EXIF-rotated, cover-cropped JPEG thumbnails. libvips decodes a
 * JPEG shrunk on load (the DCT scaled by 2, 4 or 8) where the photo is large enough.
 */
export const sharpResizer: Resizer = async (photo, size) => {
  const sharp = (await import('sharp')).default;
  return sharp(photo, { failOn: 'none' }).rotate().resize(size, size, { fit: 'cover' }).jpeg({ quality: 78 }).toBuffer();
};

export interface ThumbnailServiceOptions {
  cacheDir: string;
  guard: PathGuard;
  size?: number;
  resize?: Resizer;
  /**
   * The tagging queue's prioritize(): a photo about to be tagged gets its thumbnail from its
   * tagging decode (store()), so the request moves it to the front and waits for it instead of
   * decoding it a second time. null: not queued, decode it here.
   */
  waitForTagging?(photo: string): Promise<void> | null;
}

export interface ThumbnailService {
  handle(url: string): Promise<Response>;
  /** Caches a thumbnail made elsewhere (the tagging decode) for the photo as it is on disk now. */
  store(photo: string, jpeg: Uint8Array): Promise<void>;
}

/**
 * Serves `xthumb://photo/<encoded absolute path>` for the grid: only photos inside the added
 * folders (the guard), from a disk cache keyed by path, size and mtime. A photo waiting to be
 * tagged is tagged first and its thumbnail comes from that decode; others are decoded here one at
 * a time, so that thumbnails never take more than one core from tagging. Photos are opened
 * read-only by the resizer; a photo that cannot be decoded gives a 404, never a crash.
 */
export function createThumbnailService(options: ThumbnailServiceOptions): ThumbnailService {
  const size = options.size ?? THUMBNAIL_SIZE;
  const resize = options.resize ?? sharpResizer;
  let decodes: Promise<unknown> = Promise.resolve();
  const oneAtATime = (photo: string): Promise<Uint8Array> => {
    const run = decodes.then(() => resize(photo, size));
    decodes = run.catch(() => undefined);
    return run;
  };
  const cachePath = async (photo: string): Promise<{ dir: string; file: string }> => {
    const info = await stat(photo);
    const key = createHash('sha256').update(`${photo}\0${info.size}\0${info.mtimeMs}\0${size}`).digest('hex');
    const dir = join(options.cacheDir, key.slice(0, 2));
    return { dir, file: join(dir, `${key}.jpg`) };
  };
  const write = async (photo: string, body: Uint8Array): Promise<void> => {
    const { dir, file } = await cachePath(photo);
    await mkdir(dir, { recursive: true });
    await writeFileAtomic(file, body).catch(() => undefined);
  };
  const cached = async (photo: string): Promise<Uint8Array | null> => readFile((await cachePath(photo)).file).catch(() => null);
  return {
    store: (photo, jpeg) => write(photo, jpeg).catch(() => undefined),
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
        let body = await cached(photo);
        const tagging = body ? null : options.waitForTagging?.(photo);
        if (tagging) {
          await tagging;
          body = await cached(photo);
        }
        if (!body) {
          body = await oneAtATime(photo);
          await write(photo, body);
        }
        return new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'image/jpeg', 'cache-control': 'max-age=31536000, immutable' } });
      } catch {
        return new Response('not found', { status: 404 });
      }
    },
  };
}
