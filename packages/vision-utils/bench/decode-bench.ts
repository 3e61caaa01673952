/**
 * ms/image to turn 12-MP (4000×3000) JPEGs into 299×299 RGB, for the exact-Keras mode (full decode,
 * Pillow nearest in JS) and the shrink-on-load modes, one image at a time and several at once.
 * Also how far the fast modes' pixels are from the exact ones. The JPEGs are made in a temp folder:
 * shared photos upscaled (with added grain so they compress like camera files) when ../shared is
 * there, synthetic detail otherwise. Prints a table and writes bench/results/vision-utils-decode.json
 * at the repo root. Usage: pnpm --filter @xception/vision-utils bench -- [--images 8] [--runs 3] [--parallel 4]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { sharedPath } from '@xception/test-kit';
import { loadImage } from '../src/node/index.js';
import type { DecodedImage, ImageLoadOptions } from '../src/index.js';

const { values: args } = parseArgs({
  options: { images: { type: 'string', default: '8' }, runs: { type: 'string', default: '3' }, parallel: { type: 'string', default: '4' } },
});
const count = Number(args.images);
const runs = Number(args.runs);
const parallel = Number(args.parallel);
const WIDTH = 4000;
const HEIGHT = 3000;

const modes: { name: string; options: ImageLoadOptions }[] = [
  { name: 'keras-exact (squash, Pillow nearest, full decode) [default]', options: {} },
  { name: 'center-crop 0.8975, Pillow nearest, full decode', options: { resize: 'center-crop' } },
  { name: 'squash, bilinear, full decode', options: { interpolation: 'bilinear' } },
  { name: 'squash, nearest, shrink-on-load', options: { shrinkOnLoad: true } },
  { name: 'squash, lanczos3, shrink-on-load', options: { interpolation: 'lanczos3', shrinkOnLoad: true } },
  { name: 'center-crop, bicubic, shrink-on-load', options: { resize: 'center-crop', interpolation: 'bicubic', shrinkOnLoad: true } },
];

async function makeJpegs(dir: string): Promise<string[]> {
  const photos = sharedPath('images', 'imagenet-samples');
  const sources = photos ? readdirSync(photos).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, count).map((f) => join(photos, f)) : [];
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    // Grain: deterministic noise, so that the file has camera-like entropy (~3–5 MB), not a smooth upscale.
    const grain = Buffer.alloc(WIDTH * HEIGHT * 3);
    let s = 12345 + i;
    for (let k = 0; k < grain.length; k++) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      grain[k] = 112 + ((s >> 16) & 31);
    }
    const base = sources[i]
      ? sharp(sources[i]).resize(WIDTH, HEIGHT, { fit: 'fill', kernel: 'lanczos3' })
      : sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 40 * i, g: 120, b: 200 - 20 * i } } });
    const grained = await sharp(await base.toColourspace('srgb').removeAlpha().png({ compressionLevel: 0 }).toBuffer())
      .composite([{ input: grain, raw: { width: WIDTH, height: HEIGHT, channels: 3 }, blend: 'overlay' }])
      .jpeg({ quality: 92 })
      .toBuffer();
    const file = join(dir, `photo-${i}.jpg`);
    writeFileSync(file, grained);
    files.push(file);
  }
  return files;
}

async function pass(files: string[], options: ImageLoadOptions, concurrency: number): Promise<{ ms: number; images: DecodedImage[] }> {
  const images = new Array<DecodedImage>(files.length);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const i = next++;
        images[i] = await loadImage(files[i]!, options);
      }
    }),
  );
  return { ms: (performance.now() - start) / files.length, images };
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

const dir = mkdtempSync(join(tmpdir(), 'vision-utils-bench-'));
try {
  console.log(`making ${count} ${WIDTH}×${HEIGHT} JPEGs in ${dir} ...`);
  const files = await makeJpegs(dir);
  const mb = files.reduce((n, f) => n + statSync(f).size, 0) / files.length / 1e6;
  console.log(`average file ${mb.toFixed(1)} MB; sharp concurrency ${sharp.concurrency()} threads; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})\n`);

  const exact = (await pass(files, {}, 1)).images; // also the warm-up
  const rows: { mode: string; sequentialMs: number; parallelMs: number; meanAbsDiffVsExact: number }[] = [];
  for (const { name, options } of modes) {
    await pass(files.slice(0, 2), options, 1); // warm-up
    const seq: number[] = [];
    const par: number[] = [];
    let images: DecodedImage[] = [];
    for (let r = 0; r < runs; r++) {
      const s = await pass(files, options, 1);
      seq.push(s.ms);
      images = s.images;
      par.push((await pass(files, options, parallel)).ms);
    }
    const diff = options.resize === 'center-crop' ? Number.NaN : files.reduce((n, _, i) => n + meanAbsDiff(images[i]!.pixels, exact[i]!.pixels), 0) / files.length;
    rows.push({ mode: name, sequentialMs: Math.min(...seq), parallelMs: Math.min(...par), meanAbsDiffVsExact: diff });
  }

  const table = [
    `| mode | ms/image, 1 at a time | ms/image, ${parallel} at a time | mean abs pixel diff vs keras-exact (0–255) |`,
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.mode} | ${r.sequentialMs.toFixed(1)} | ${r.parallelMs.toFixed(1)} | ${Number.isNaN(r.meanAbsDiffVsExact) ? 'n/a (other crop)' : r.meanAbsDiffVsExact.toFixed(2)} |`),
  ].join('\n');
  console.log(table);

  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const out = join(root, 'bench', 'results', 'vision-utils-decode.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        benchmark: 'vision-utils decode + resize of 12-MP JPEGs to 299x299',
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, sharp: sharp.versions.sharp, vips: sharp.versions.vips, sharpThreads: sharp.concurrency() },
        images: { count, width: WIDTH, height: HEIGHT, averageMB: Number(mb.toFixed(2)), source: sharedPath('images') ? 'shared ImageNet photos upscaled + grain' : 'synthetic + grain' },
        runs,
        parallel,
        statistic: 'best of runs, wall time / images',
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nwrote ${out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
