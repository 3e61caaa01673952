import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaggingProgress } from '../shared/api.js';
import { createEngineClassifier } from '../core/engine-classifier.js';
import { makeTempDir } from '../core/test-support/temp-dir.js';
import { sharpResizer, THUMBNAIL_SIZE } from '../core/thumbnails.js';
import { startServedApp, type ServedApp } from './served-app.js';

const rendererSrc = fileURLToPath(new URL('../renderer/', import.meta.url));

function get(port: number, path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The served shell with the real engine (seeded onnx at 71x71), the model held back until the
 * grid has said what it shows and asked for some thumbnails: those photos are decoded once, by
 * tagging (the on-demand resizer never runs for them), the others get no thumbnail work, and
 * "Tag new" pressed during the run counts every photo once.
 */
describe('served thumbnails come from the tagging decode', () => {
  const COLOURS = [[220, 30, 30], [30, 200, 40], [40, 50, 210], [230, 220, 40], [20, 200, 210], [200, 40, 200], [120, 120, 120], [250, 140, 20], [90, 20, 160], [10, 90, 60]] as const;
  let app: ServedApp;
  let album: string;
  let dataDir: string;
  let openModel!: () => void;
  const modelHeldBack = new Promise<void>((resolve) => (openModel = resolve));
  const resized: string[] = [];
  const progress: TaggingProgress[] = [];

  beforeAll(async () => {
    const root = makeTempDir('xception-served-thumbs-');
    album = join(root, 'album');
    mkdirSync(album);
    for (const [i, [r, g, b]] of COLOURS.entries()) {
      writeFileSync(join(album, `p${i}.jpg`), await sharp({ create: { width: 71, height: 53, channels: 3, background: { r, g, b } } }).jpeg({ quality: 95 }).toBuffer());
    }
    writeFileSync(join(album, 'notes.txt'), 'not a photo'); // not counted
    const rendererDir = join(root, 'renderer');
    mkdirSync(rendererDir);
    copyFileSync(join(rendererSrc, 'index.html'), join(rendererDir, 'index.html'));
    dataDir = join(root, 'data');
    app = await startServedApp({
      folders: [album],
      dataDir,
      rendererDir,
      createClassifier: async () => {
        const real = createEngineClassifier({ engine: 'onnx', weights: null, imageSize: 71, random: { seed: 5 }, threads: 1, thumbnailSize: THUMBNAIL_SIZE });
        // The queue's first batch waits until the test has made its requests.
        return Object.assign(Object.create(real) as typeof real, { load: async () => modelHeldBack.then(() => real.load()) });
      },
      onProgress: (p) => progress.push(p),
      resize: async (photo, size) => {
        resized.push(photo);
        return sharpResizer(photo, size);
      },
    });
  }, 120_000);
  afterAll(() => app?.close());

  it('the thumbnails the grid shows or asks for come from the tagging decode, the others get none; 10 photos say 10/10', async () => {
    const cookie = `${app.rules.cookieName}=${app.rules.token}`;
    const api = (method: string, args: unknown[]) => get(app.port, `/api/${method}`, { cookie, origin: app.origin, 'content-type': 'application/json' }, 'POST', JSON.stringify({ args }));
    // The scan runs once the page can open: the photos are known when tagging has queued them.
    await expect.poll(() => progress.some((p) => p.total === 10)).toBe(true);
    const ids = COLOURS.map((_, i) => join(app.service.listFolders()[0]!.path, `p${i}.jpg`));
    // The grid shows p0–p5 and asks for the thumbnails of p0–p3 and p8 (six connections: not all at once).
    expect((await api('showThumbnails', [ids.slice(0, 6)])).status).toBe(200);
    const asked = [0, 1, 2, 3, 8];
    let waits = 0;
    const waitForTagging = app.service.waitForTagging.bind(app.service);
    app.service.waitForTagging = (photo) => (waits++, waitForTagging(photo));
    const thumbnails = Promise.all(asked.map((i) => get(app.port, `/thumbnail?id=${encodeURIComponent(ids[i]!)}`, { cookie })));
    await expect.poll(() => waits).toBe(asked.length);
    openModel();
    expect((await api('startTagging', [{ scope: 'new' }])).status).toBe(200);
    const replies = await thumbnails;
    await app.service.whenIdle();
    // Shown or asked for: p0–p5 and p8, from their tagging decodes; nothing for p6, p7, p9.
    const cached = readdirSync(join(dataDir, 'thumbnails'), { recursive: true }).filter((f) => String(f).endsWith('.jpg'));
    expect(cached).toHaveLength(7);
    // p4 (shown, not asked for yet) comes from that cache; p9 is decoded now, on demand.
    replies.push(await get(app.port, `/thumbnail?id=${encodeURIComponent(ids[4]!)}`, { cookie }));
    expect(resized).toEqual([]);
    replies.push(await get(app.port, `/thumbnail?id=${encodeURIComponent(ids[9]!)}`, { cookie }));
    expect(resized).toEqual([ids[9]]);
    for (const [k, reply] of replies.entries()) {
      const i = [...asked, 4, 9][k]!;
      expect(reply.status).toBe(200);
      const { data, info } = await sharp(reply.body).raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height, info.format]).toEqual([THUMBNAIL_SIZE, THUMBNAIL_SIZE, 'raw']);
      const centre = [...data.subarray((128 * THUMBNAIL_SIZE + 128) * 3, (128 * THUMBNAIL_SIZE + 128) * 3 + 3)];
      centre.forEach((v, c) => expect(Math.abs(v - COLOURS[i]![c]!)).toBeLessThanOrEqual(8));
    }
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 10, failed: 0, total: 10 });
  });
});
