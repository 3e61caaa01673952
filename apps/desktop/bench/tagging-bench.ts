/**
 * Photos/s of the desktop app's tagging path against `xception classify` on the same photos
 * and engine. The desktop side is what the app runs: the library service (scan, index), the
 * tagging queue (batches of 8), the inference host in its own process (inference-host.ts over
 * a Node child process standing in for Electron's utility process, built by scripts/build.mjs
 * as the app ships it) on @xception/engines, and
 * the XMP sidecar writes. Both sides: onnx, seeded random weights at 299x299 (the arithmetic of
 * ImageNet's), threads = CPUs, on a temporary copy of ../shared/images/imagenet-samples.
 * Times exclude the model load on both sides (the CLI's summary starts after its engine is up;
 * here the clock starts when the first batch is sent). Peak RSS is VmHWM from /proc.
 * Writes bench/results/desktop-tagging.json.
 * Usage: pnpm --filter @xception/desktop bench [-- --photos 16 --rounds 1]
 *   (the CLI side runs apps/worker/dist/cli.js: build first, `node_modules/.bin/turbo run build`)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@xception/test-kit';
import { DEFAULT_SETTINGS, type TaggingProgress } from '../src/shared/api.js';
import { createLibraryService } from '../src/core/library-service.js';
import { createUtilityClassifier } from '../src/core/utility-classifier.js';
import { forkNodeUtilityProcess } from '../src/core/test-support/node-utility-process.js';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildAll } from '../scripts/build.mjs';

const { values: args } = parseArgs({ options: {
  photos: { type: 'string', default: '0' },
  rounds: { type: 'string', default: '1' },
} });
const samples = sharedPath('images', 'imagenet-samples');
if (!samples) {
  console.error('tagging-bench: ../shared/images/imagenet-samples is missing; nothing to measure.');
  process.exit(1);
}
const cli = fileURLToPath(new URL('../../worker/dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`tagging-bench: ${cli} is missing; build first (node_modules/.bin/turbo run build).`);
  process.exit(1);
}
// The host as the app ships it: the esbuild bundle (inside the app folder, so that its external
// packages resolve; dist/ is git-ignored), as the CLI side runs its built dist/cli.js.
const bundle = join(fileURLToPath(new URL('../dist/', import.meta.url)), 'bench');
await buildAll(bundle);
const hostEntry = join(bundle, 'electron', 'inference-host.js');
const names = readdirSync(samples).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
const count = Number(args.photos) > 0 ? Math.min(Number(args.photos), names.length) : names.length;
const threads = availableParallelism();

/** Peak RSS (VmHWM, bytes) of a live process, polled until it exits: the kernel keeps the maximum. */
function watchPeakRss(pid: number): { stop(): number } {
  let peak = 0;
  const read = (): void => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (kb) peak = Math.max(peak, Number(kb) * 1024);
    } catch {
      // gone
    }
  };
  const timer = setInterval(read, 100);
  return { stop: () => (read(), clearInterval(timer), peak) };
}

function copyPhotos(): string {
  const dir = mkdtempSync(join(tmpdir(), 'xception-tagging-bench-'));
  for (const name of names.slice(0, count)) copyFileSync(join(samples!, name), join(dir, name));
  return dir;
}

async function desktopRound(): Promise<Record<string, number>> {
  const photos = copyPhotos();
  const data = mkdtempSync(join(tmpdir(), 'xception-tagging-bench-data-'));
  let firstBatchAt = 0;
  let loadStartedAt = 0;
  let host: { stop(): number } | null = null;
  const service = createLibraryService({
    dataDir: data,
    createClassifier: async (settings) => createUtilityClassifier(() => {
      const child = forkNodeUtilityProcess(hostEntry);
      host = watchPeakRss(child.pid!);
      return child;
    }, { ...settings, engine: 'onnx' }, { randomWeights: { seed: 1, imageSize: 299 } }),
    onProgress: (p: TaggingProgress) => {
      if (p.state === 'loading-model' && !loadStartedAt) loadStartedAt = performance.now();
      if (p.state === 'running' && loadStartedAt && !firstBatchAt) firstBatchAt = performance.now();
    },
  });
  await service.init();
  await service.updateSettings({ engine: 'onnx' });
  await service.addFolder(photos);
  const t0 = performance.now();
  await service.startTagging({ scope: 'new' });
  await service.whenIdle();
  const end = performance.now();
  const progress = service.progress();
  const hostPeak = (host as { stop(): number } | null)?.stop() ?? 0;
  await service.dispose();
  const sidecars = readdirSync(photos).filter((n) => n.endsWith('.xmp')).length;
  rmSync(photos, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
  if (progress.done !== count || sidecars !== count) throw new Error(`desktop round tagged ${progress.done} of ${count} photos and wrote ${sidecars} sidecars (${progress.message ?? progress.state})`);
  return {
    photos: count,
    seconds: (end - firstBatchAt) / 1000,
    photosPerSecond: count / ((end - firstBatchAt) / 1000),
    loadSeconds: (firstBatchAt - loadStartedAt) / 1000,
    wallSeconds: (end - t0) / 1000,
    hostPeakRssMiB: hostPeak / 2 ** 20,
    mainPeakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

async function cliRound(): Promise<Record<string, number>> {
  const photos = copyPhotos();
  const out = join(mkdtempSync(join(tmpdir(), 'xception-tagging-bench-cli-')), 'r.jsonl');
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'classify', photos, '--out', out, '--engine', 'onnx', '--weights', 'none', '--log-format', 'json'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const rss = watchPeakRss(child.pid!);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const wall = (performance.now() - t0) / 1000;
  const peak = rss.stop();
  rmSync(photos, { recursive: true, force: true });
  rmSync(join(out, '..'), { recursive: true, force: true });
  const summary = stderr.split('\n').filter((l) => l.includes('"event":"summary"')).map((l) => JSON.parse(l) as Record<string, number>)[0];
  if (code !== 0 || !summary) throw new Error(`xception classify failed (exit ${code}):\n${stderr}`);
  return { photos: summary.done!, seconds: summary.seconds!, photosPerSecond: summary.imagesPerSecond!, wallSeconds: wall, peakRssMiB: peak / 2 ** 20 };
}

const rounds: Array<{ desktop: Record<string, number>; cli: Record<string, number> }> = [];
for (let r = 0; r < Number(args.rounds); r++) {
  // Alternating, so that drift on a shared machine hits both alike.
  const desktop = await desktopRound();
  const classify = await cliRound();
  rounds.push({ desktop, cli: classify });
  console.log(`round ${r + 1}: desktop ${desktop.photosPerSecond!.toFixed(2)} photos/s, classify ${classify.photosPerSecond!.toFixed(2)} photos/s`);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const desktopRate = median(rounds.map((r) => r.desktop.photosPerSecond!));
const cliRate = median(rounds.map((r) => r.cli.photosPerSecond!));
const ratio = desktopRate / cliRate;

console.log(`\ndesktop tagging path vs xception classify, ${count} photos, onnx, ${threads} threads, 299x299, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
console.log('| path | photos/s | peak RSS |');
console.log('|---|---|---|');
console.log(`| desktop (library service, queue in batches of 8, inference host process, sidecars) | ${desktopRate.toFixed(2)} | host ${rounds.at(-1)!.desktop.hostPeakRssMiB!.toFixed(0)} MiB + main ${rounds.at(-1)!.desktop.mainPeakRssMiB!.toFixed(0)} MiB |`);
console.log(`| xception classify --engine onnx | ${cliRate.toFixed(2)} | ${rounds.at(-1)!.cli.peakRssMiB!.toFixed(0)} MiB |`);
console.log(`ratio desktop / classify: ${ratio.toFixed(3)}`);

const outDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(outDir, { recursive: true });
const file = join(outDir, 'desktop-tagging.json');
writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, photos: count, threads, engine: 'onnx', imageSize: 299, batch: 8, desktopPhotosPerSecond: desktopRate, classifyPhotosPerSecond: cliRate, ratio, rounds }, null, 2));
console.log(`written ${file}`);
