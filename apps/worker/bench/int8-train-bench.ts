/**
 * Does a model trained by `xception train` keep its held-out accuracy under int8? All through the
 * built CLI, as a user runs it, on the 186 shared photos (../shared/images/imagenet-samples):
 * 1. a labelled task made from them (as test/train-cli.test.ts makes it): each photo, and an
 *    underexposed copy (pixels x 0.4), two classes `photo` and `underexposed`; the first
 *    `--train` photos (sorted by name) train, the others are held out and never seen;
 * 2. `xception train` on the training folder (seeded random base, `--weights none`, since the
 *    ImageNet weights cannot be downloaded here; `--image-size`, default 150) → model.keras;
 * 3. `xception quantize --weights model.keras --calibrate <training folder>` (its first 256
 *    photos in listing order; a quarter held out for the agreement check);
 * 4. `xception classify` of the held-out folder with `--precision fp32` and `--precision int8`
 *    (which takes the calibrated model from the cache): accuracy of each, the drop, and their
 *    top-1 agreement.
 * Prints the figures and writes bench/results/int8-train.json; asserts nothing (the goal,
 * a drop within 0.02, is printed beside the figures). Build first (turbo build).
 * Usage: pnpm --filter @xception/worker bench:int8-train [-- --image-size 150 --train 100 --epochs 10 --threads 2]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@xception/test-kit';

const { values: args } = parseArgs({
  options: {
    'image-size': { type: 'string', default: '150' },
    train: { type: 'string', default: '100' },
    epochs: { type: 'string', default: '10' },
    threads: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
  },
});
const size = Number(args['image-size']), trainCount = Number(args.train), threads = args.threads!;
const photosDir = sharedPath('images', 'imagenet-samples');
if (!photosDir) {
  console.log('int8 train bench skipped: no ../shared/images');
  process.exit(0);
}
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'xception-int8-train-bench-'));
const env = { ...process.env, XCEPTION_HOME: join(work, 'home') };
const CLASSES = ['photo', 'underexposed'] as const;

/** One CLI run: its stderr, wall seconds and CPU seconds (user + system, its threads included). */
function runCli(argv: string[]): { stderr: string; seconds: number; cpuSeconds: number | null } {
  const before = childCpuSeconds();
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`xception ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  const after = childCpuSeconds();
  return { stderr: r.stderr, seconds: (performance.now() - t) / 1000, cpuSeconds: before === null || after === null ? null : after - before };
}

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
/** CPU seconds of this process's waited-for children so far (Linux: cutime + cstime of /proc/self/stat); null elsewhere. */
function childCpuSeconds(): number | null {
  try {
    // The fields after the command's closing parenthesis start at the 3rd (state); cutime and cstime are the 16th and 17th.
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

/** The photos as the two classes, at twice the model's side (PNG: no JPEG loss on the dark copies). */
async function writeClasses(folder: string, names: readonly string[]): Promise<void> {
  const sharp = createRequire(fileURLToPath(new URL('../../../packages/vision-utils/package.json', import.meta.url)))('sharp') as typeof import('sharp').default;
  for (const c of CLASSES) mkdirSync(join(folder, c), { recursive: true });
  for (const name of names) {
    const image = sharp(join(photosDir!, name)).resize(size * 2, size * 2, { fit: 'fill' }).removeAlpha().toColourspace('srgb');
    const png = name.replace(/\.\w+$/, '.png');
    await image.clone().png().toFile(join(folder, 'photo', png));
    await image.clone().linear(0.4, 0).png().toFile(join(folder, 'underexposed', png));
  }
}

interface Row { path: string; top: Array<{ label: string; index: number }> }
const rowsOf = (file: string): Row[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);
const truth = (path: string): string => (path.includes('/underexposed/') ? 'underexposed' : 'photo');
const accuracyOf = (rows: readonly Row[]): number => rows.filter((r) => r.top[0]!.label === truth(r.path)).length / rows.length;

const names = readdirSync(photosDir).filter((f) => /\.jpe?g$/i.test(f)).sort();
const data = join(work, 'train'), heldOut = join(work, 'held-out');
await writeClasses(data, names.slice(0, trainCount));
await writeClasses(heldOut, names.slice(trainCount));
const model = join(work, 'model.keras');

const train = runCli(['train', '--data', data, '--out', model, '--weights', 'none', '--image-size', String(size), '--epochs', args.epochs!, '--batch-size', '16', '--val-split', '0.2', '--seed', '3', '--threads', threads]);
const quantize = runCli(['quantize', '--weights', model, '--calibrate', data, '--threads', threads]);
const quantized = /agreement with fp32 on (\d+) held-out photos: top-1 ([\d.]+|n\/a), embedding cosine ([\d.]+)/.exec(quantize.stderr);
const runs = Object.fromEntries((['fp32', 'int8'] as const).map((precision) => {
  const out = join(work, `${precision}.jsonl`);
  const run = runCli(['classify', heldOut, '--recursive', '--weights', model, '--precision', precision, '--out', out, '--threads', threads]);
  if (precision === 'int8' && /calibrating/.test(run.stderr)) throw new Error(`classify --precision int8 calibrated on its inputs instead of taking quantize's model: ${run.stderr}`);
  return [precision, { rows: rowsOf(out), seconds: run.seconds, cpuSeconds: run.cpuSeconds }];
})) as Record<'fp32' | 'int8', { rows: Row[]; seconds: number; cpuSeconds: number | null }>;

const fp32 = accuracyOf(runs.fp32.rows), int8 = accuracyOf(runs.int8.rows);
const int8Top = new Map(runs.int8.rows.map((r) => [r.path, r.top[0]!.label]));
const agreement = runs.fp32.rows.filter((r) => int8Top.get(r.path) === r.top[0]!.label).length / runs.fp32.rows.length;
const heldOutImages = runs.fp32.rows.length;
const lastEpoch = train.stderr.trim().split('\n').filter((l) => /^epoch \d+/.test(l)).pop() ?? '';

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cpus: cpus().length },
  imageSize: size, threads: Number(threads), trainPhotos: trainCount * 2, heldOutImages, epochs: Number(args.epochs),
  train: { seconds: train.seconds, cpuSeconds: train.cpuSeconds, lastEpoch },
  quantize: { seconds: quantize.seconds, cpuSeconds: quantize.cpuSeconds, heldOut: quantized ? Number(quantized[1]) : null, top1: quantized?.[2] ?? null, embeddingCosine: quantized ? Number(quantized[3]) : null },
  heldOutAccuracy: { fp32, int8, drop: fp32 - int8, goal: 'drop <= 0.02' },
  top1AgreementInt8VsFp32: agreement,
  classify: { fp32: { seconds: runs.fp32.seconds, cpuSeconds: runs.fp32.cpuSeconds }, int8: { seconds: runs.int8.seconds, cpuSeconds: runs.int8.cpuSeconds } },
};
const cpu = (s: number | null): string => (s === null ? '' : ` (${s.toFixed(1)} s CPU)`);
console.log(`xception train (${trainCount * 2} images, ${size}x${size}, ${args.epochs} epochs; ${lastEpoch}): ${train.seconds.toFixed(1)} s${cpu(train.cpuSeconds)}`);
console.log(`xception quantize on the training folder: ${quantize.seconds.toFixed(1)} s; its own check on ${result.quantize.heldOut} held-out calibration photos: top-1 ${result.quantize.top1}, cosine ${result.quantize.embeddingCosine}`);
console.log(`held-out accuracy on ${heldOutImages} images never seen: fp32 ${fp32.toFixed(4)}, int8 ${int8.toFixed(4)}, drop ${(fp32 - int8).toFixed(4)} (goal: within 0.02)`);
console.log(`int8 against fp32 on the held-out images: top-1 agreement ${agreement.toFixed(4)}`);
console.log(`classify of the held-out images: fp32 ${runs.fp32.seconds.toFixed(1)} s${cpu(runs.fp32.cpuSeconds)}, int8 ${runs.int8.seconds.toFixed(1)} s${cpu(runs.int8.cpuSeconds)}`);
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'int8-train.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${join(resultsDir, 'int8-train.json')}`);
if (args.keep) console.log(`kept ${work}`);
else rmSync(work, { recursive: true, force: true });
