import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { describe, expect, it } from 'vitest';
import { thumbnailUrlFor } from '../shared/api.js';
import { createPathGuard } from './path-guard.js';
import { createThumbnailService } from './thumbnails.js';
import { makeTempDir } from './test-support/temp-dir.js';

const photo = sharedPath('images', 'imagenet-samples', 'n02088364_beagle.JPEG');

describe('thumbnail protocol', () => {
  it('serves nothing outside the added folders and 404s an undecodable file', async () => {
    const folder = makeTempDir('xception-thumbs-');
    writeFileSync(join(folder, 'broken.jpg'), 'not a jpeg');
    const service = createThumbnailService({ cacheDir: makeTempDir('xception-cache-'), guard: createPathGuard(() => [folder]) });
    expect((await service.handle(thumbnailUrlFor('/etc/passwd'))).status).toBe(403);
    expect((await service.handle(thumbnailUrlFor(join(folder, '..', 'x.jpg')))).status).toBe(403);
    expect((await service.handle(thumbnailUrlFor(join(folder, 'broken.jpg')))).status).toBe(404);
    expect((await service.handle('xthumb://other/x')).status).toBe(404);
  });

  it.skipIf(!photo)(`makes a 256-px JPEG with sharp, caches it, and leaves the photo unchanged ${photo ? '' : SKIP_NO_SHARED}`, async () => {
    const folder = makeTempDir('xception-thumbs-');
    const copy = join(folder, 'dog.jpg');
    copyFileSync(photo!, copy);
    const before = createHash('sha256').update(readFileSync(copy)).digest('hex');
    let resized = 0;
    const { sharpResizer } = await import('./thumbnails.js');
    const service = createThumbnailService({
      cacheDir: makeTempDir('xception-cache-'),
      guard: createPathGuard(() => [folder]),
      resize: async (p, s) => (resized++, sharpResizer(p, s)),
    });
    const response = await service.handle(thumbnailUrlFor(copy));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const body = new Uint8Array(await response.arrayBuffer());
    expect([body[0], body[1]]).toEqual([0xff, 0xd8]);
    const sharp = (await import('sharp')).default;
    expect(await sharp(body).metadata()).toMatchObject({ width: 256, height: 256, format: 'jpeg' });
    await service.handle(thumbnailUrlFor(copy));
    expect(resized).toBe(1);
    expect(createHash('sha256').update(readFileSync(copy)).digest('hex')).toBe(before);
  });
});

describe('thumbnails while tagging runs', () => {
  const tinyJpeg = async (): Promise<Uint8Array> => {
    const sharp = (await import('sharp')).default;
    return sharp({ create: { width: 71, height: 71, channels: 3, background: { r: 200, g: 10, b: 10 } } }).jpeg().toBuffer();
  };

  it('a photo queued for tagging is not decoded here: the request waits for the thumbnail its tagging decode stores', async () => {
    const folder = makeTempDir('xception-thumbs-');
    const file = join(folder, 'a.jpg');
    writeFileSync(file, await tinyJpeg());
    const fromTagging = new Uint8Array([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    let resized = 0;
    let release!: () => void;
    const asked: string[] = [];
    const service = createThumbnailService({
      cacheDir: makeTempDir('xception-cache-'),
      guard: createPathGuard(() => [folder]),
      resize: async () => (resized++, new Uint8Array()),
      waitForTagging: (photo) => (asked.push(photo), new Promise<void>((r) => (release = r))),
    });
    const response = service.handle(thumbnailUrlFor(file));
    await new Promise((r) => setImmediate(r));
    while (asked.length === 0) await new Promise((r) => setTimeout(r, 5));
    // The tagging queue stores the thumbnail from its decode, then the wait ends.
    await service.store(file, fromTagging);
    release();
    expect(new Uint8Array(await (await response).arrayBuffer())).toEqual(fromTagging);
    expect(asked).toEqual([file]);
    expect(resized).toBe(0);
  });

  it('decodes it here when the wait ends without one (tagging paused or the photo failed), and never two at once', async () => {
    const folder = makeTempDir('xception-thumbs-');
    const files = ['a.jpg', 'b.jpg', 'c.jpg'].map((n) => join(folder, n));
    for (const f of files) writeFileSync(f, await tinyJpeg());
    let running = 0;
    let most = 0;
    const { sharpResizer } = await import('./thumbnails.js');
    const service = createThumbnailService({
      cacheDir: makeTempDir('xception-cache-'),
      guard: createPathGuard(() => [folder]),
      resize: async (p, s) => {
        most = Math.max(most, ++running);
        try {
          return await sharpResizer(p, s);
        } finally {
          running--;
        }
      },
      waitForTagging: (photo) => (photo === files[0] ? Promise.resolve() : null),
    });
    const responses = await Promise.all(files.map((f) => service.handle(thumbnailUrlFor(f))));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const sharp = (await import('sharp')).default;
    expect(await sharp(new Uint8Array(await responses[0]!.arrayBuffer())).metadata()).toMatchObject({ width: 256, height: 256 });
    expect(most).toBe(1);
  });
});
