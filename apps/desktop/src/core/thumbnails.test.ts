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
