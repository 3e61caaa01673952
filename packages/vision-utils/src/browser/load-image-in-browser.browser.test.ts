import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  bundleForBrowser, HAVE_CHROMIUM, openChromium, readmeExamples, repoRoot, SKIP_NO_CHROMIUM, type ChromiumSession,
} from '@xception/test-kit';

/**
 * loadImageInBrowser in real Chromium (Debian's), on images written by sharp and served from
 * 127.0.0.1, against sharp's own decoding of the same files (libvips: an independent decoder).
 * Images are decoded at their own size with 'nearest' so that no resampling stands between the
 * two decoders. One Chromium for the file; the README's browser example runs in it too.
 */
type PageResult =
  | { ok: true; width: number; height: number; originalWidth: number; originalHeight: number; format: string; pixels: number[] }
  | { ok: false; name: string; code: string; message: string };

const PAGE = `
import { loadImageInBrowser } from '@xception/vision-utils/browser';
window.loadInPage = async (url, options) => {
  const blob = await (await fetch(url)).blob();
  try {
    const r = await loadImageInBrowser(blob, options);
    return { ok: true, width: r.width, height: r.height, originalWidth: r.originalWidth, originalHeight: r.originalHeight, format: r.format, pixels: Array.from(r.pixels) };
  } catch (e) {
    return { ok: false, name: e.name, code: e.code, message: e.message };
  }
};
`;

const site = mkdtempSync(join(tmpdir(), 'xception-browser-images-'));
let chromium: ChromiumSession | undefined;

/** A 48x32 RGB picture whose quadrants differ, so that a wrong rotation or flip cannot pass. */
function pattern(width: number, height: number): Buffer {
  const out = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[i] = x < width / 2 ? 220 : 30;
      out[i + 1] = y < height / 2 ? 200 : 40;
      out[i + 2] = Math.round((x / width) * 255);
    }
  }
  return out;
}

/** A 24-bit bottom-up BMP by hand (sharp does not write BMP): its pixels are known exactly. */
function bmp(rgb: Buffer, width: number, height: number): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const file = Buffer.alloc(54 + row * height);
  file.write('BM', 0, 'ascii');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  file.writeUInt32LE(row * height, 34);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = (y * width + x) * 3;
      const d = 54 + (height - 1 - y) * row + x * 3;
      file[d] = rgb[s + 2]!;
      file[d + 1] = rgb[s + 1]!;
      file[d + 2] = rgb[s]!;
    }
  }
  return file;
}

async function sharpRgb(file: string, prepare: (s: Sharp) => Sharp = (s) => s): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await prepare(sharp(join(site, file))).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
  }
  return { max, mean: sum / a.length };
}

async function load(file: string, options: Record<string, unknown>): Promise<PageResult> {
  return chromium!.page.evaluate(([url, o]) => (window as unknown as { loadInPage: (u: string, o: unknown) => Promise<PageResult> }).loadInPage(url, o), [`/${file}`, options] as const);
}

const W = 48;
const H = 32;
const FORMATS = ['jpeg', 'png', 'webp', 'gif', 'avif', 'bmp'] as const;

beforeAll(async () => {
  if (!HAVE_CHROMIUM) return;
  const rgb = pattern(W, H);
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  await sharp(rgb, raw).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).withMetadata({ orientation: 6 }).toFile(join(site, 'oriented.jpg'));
  const grey = Buffer.from(Array.from({ length: W * H }, (_, i) => (i * 7) % 256));
  await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toFile(join(site, 'grey.png'));
  await sharp(grey, { raw: { width: W, height: H, channels: 1 } }).jpeg({ quality: 95 }).toFile(join(site, 'grey.jpg'));
  const rgba = Buffer.alloc(W * H * 4);
  for (let i = 0; i < W * H; i++) rgba.set([rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!, (i * 5) % 256], i * 4);
  await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toFile(join(site, 'alpha.png'));
  await sharp(rgb, raw).jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toFile(join(site, 'pattern.jpeg'));
  await sharp(rgb, raw).png().toFile(join(site, 'pattern.png'));
  await sharp(rgb, raw).webp({ lossless: true }).toFile(join(site, 'pattern.webp'));
  await sharp(rgb, raw).gif().toFile(join(site, 'pattern.gif'));
  await sharp(rgb, raw).avif({ lossless: true }).toFile(join(site, 'pattern.avif'));
  writeFileSync(join(site, 'pattern.bmp'), bmp(rgb, W, H));
  // The README's example fetches /photos/elephant.jpg.
  await sharp(pattern(320, 240), { raw: { width: 320, height: 240, channels: 3 } }).jpeg().toFile(join(site, 'elephant.jpg'));
  const bundle = await bundleForBrowser(PAGE, join(repoRoot()!, 'apps', 'worker'));
  chromium = await openChromium(site);
  expect(await chromium.runModule(bundle.text)).toEqual({ ok: true });
}, 120_000);
afterAll(async () => {
  await chromium?.close();
  rmSync(site, { recursive: true, force: true });
});

describe.skipIf(!HAVE_CHROMIUM)(`loadImageInBrowser in Chromium ${HAVE_CHROMIUM ? '' : SKIP_NO_CHROMIUM}`, () => {
  test('EXIF orientation 6 is applied (upright 32x48, as sharp rotates it); autoOrient: false keeps the stored 48x32', async () => {
    const upright = await sharpRgb('oriented.jpg', (s) => s.rotate());
    expect([upright.width, upright.height]).toEqual([H, W]);
    const r = await load('oriented.jpg', { size: [W, H], interpolation: 'nearest' });
    if (!r.ok) throw new Error(r.message);
    expect([r.originalWidth, r.originalHeight, r.width, r.height, r.format]).toEqual([H, W, H, W, 'jpeg']);
    const d = diff(r.pixels, upright.data);
    console.log(`orientation 6 JPEG, Chromium vs sharp: max |diff| ${d.max}, mean ${d.mean.toFixed(2)}`);
    expect(d.mean).toBeLessThan(2);
    expect(d.max).toBeLessThanOrEqual(12);
    const stored = await load('oriented.jpg', { size: [H, W], interpolation: 'nearest', autoOrient: false });
    if (!stored.ok) throw new Error(stored.message);
    expect([stored.originalWidth, stored.originalHeight, stored.width, stored.height]).toEqual([W, H, W, H]);
    expect(diff(stored.pixels, (await sharpRgb('oriented.jpg')).data).max).toBeLessThanOrEqual(12);
  });

  test('greyscale PNG and JPEG become RGB with equal channels, as sharp decodes them', async () => {
    for (const [file, tolerance] of [['grey.png', 0], ['grey.jpg', 2]] as const) {
      const r = await load(file, { size: [H, W], interpolation: 'nearest' });
      if (!r.ok) throw new Error(r.message);
      const expected = await sharpRgb(file);
      const d = diff(r.pixels, expected.data);
      expect(d.max, `${file}: max ${d.max}`).toBeLessThanOrEqual(tolerance);
      for (let i = 0; i < r.pixels.length; i += 3) expect(r.pixels[i] === r.pixels[i + 1] && r.pixels[i] === r.pixels[i + 2]).toBe(true);
    }
  });

  test('PNG alpha is flattened over the background option, as sharp flattens it', async () => {
    const background = { r: 0, g: 128, b: 255 };
    const r = await load('alpha.png', { size: [H, W], interpolation: 'nearest', background });
    if (!r.ok) throw new Error(r.message);
    const expected = await sharpRgb('alpha.png', (s) => s.flatten({ background }));
    const d = diff(r.pixels, expected.data);
    console.log(`PNG alpha over (0,128,255), Chromium vs sharp: max |diff| ${d.max}, mean ${d.mean.toFixed(3)}`);
    expect(d.max).toBeLessThanOrEqual(2);
  });

  test.each(FORMATS)('%s: refused before decoding one pixel over maxPixels; decoded as the file says at the limit', async (format) => {
    const file = `pattern.${format}`;
    const over = await load(file, { size: [H, W], interpolation: 'nearest', maxPixels: W * H - 1 });
    expect(over).toMatchObject({ ok: false, name: 'ImageDecodeError', code: 'ERR_IMAGE_TOO_LARGE' });
    // "...if you trust the file": the header was read and nothing decoded (after decoding it says "image").
    expect(over.ok === false && over.message).toBe(`<blob of ${(await (await fetch(`${chromium!.server.url}/${file}`)).arrayBuffer()).byteLength} bytes>: ${W}×${H} pixels is over the limit of ${W * H - 1}; raise maxPixels if you trust the file`);
    const at = await load(file, { size: [H, W], interpolation: 'nearest', maxPixels: W * H });
    if (!at.ok) throw new Error(at.message);
    expect([at.width, at.height, at.format]).toEqual([W, H, format]);
    // BMP: sharp does not read it, so the pixels written into the file are the reference.
    const expected = format === 'bmp' ? pattern(W, H) : (await sharpRgb(file)).data;
    const d = diff(at.pixels, expected);
    expect(d.max, `${format}: max ${d.max}, mean ${d.mean}`).toBeLessThanOrEqual(format === 'jpeg' ? 12 : format === 'avif' ? 3 : 0);
  });

  test("the README's browser example runs and prints the tensor shape it says", async () => {
    const example = readmeExamples(fileURLToPath(new URL('../../README.md', import.meta.url))).find((e) => e.where === 'browser')!;
    const copy = join(site, 'photos');
    await import('node:fs').then((fs) => { fs.mkdirSync(copy); fs.copyFileSync(join(site, 'elephant.jpg'), join(copy, 'elephant.jpg')); });
    const bundle = await bundleForBrowser(example.code, join(repoRoot()!, 'apps', 'worker'));
    const before = chromium!.logs.length;
    expect(await chromium!.runModule(bundle.text)).toEqual({ ok: true });
    expect(chromium!.logs.slice(before)).toEqual(['1x299x299x3']);
    expect(chromium!.errors).toEqual([]);
  });
});
