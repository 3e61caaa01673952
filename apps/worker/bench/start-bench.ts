/**
 * What one start of the CLI costs, the number CI pays for every child process its tests spawn:
 * `xception --version`, and `xception classify` of 2 photos at 71x71 with a warm ONNX cache (the
 * first, unmeasured run of each fills it: the export and onnxruntime's optimised graph), once with
 * seeded weights (`--weights none`) and once with a full-size Keras 3 `.weights.h5` (Keras' own
 * layout, seeded values, written by @xception/weights), where reading the file is the cost; and
 * `xception tag` of the same 2 photos (copies) with that file, which decodes it only on a cache miss. Each is a fresh `node apps/worker/dist/cli.js` process; reported: wall time, CPU time
 * (user + system, all threads) and peak RSS, read by a preload that prints them as it exits.
 * With --compare <other checkout>, the same for that checkout's built CLI, run alternately.
 * Writes bench/results/start.json.
 * Runs apps/worker/dist/cli.js: build first (node_modules/.bin/turbo run build).
 * Usage: pnpm --filter @xception/worker bench:start [-- --repeat 5 --compare /path/to/other/checkout]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { sharedPath } from '@xception/test-kit';
import { saneRandomWeights } from '@xception/core/testing';
import { writeKeras3Weights } from '@xception/weights';

// pnpm 12 passes the `--` of `pnpm bench:start -- --repeat 3` on: it is dropped here.
const { values: args } = parseArgs({ args: process.argv.slice(2).filter((a) => a !== '--'), options: {
  repeat: { type: 'string', default: '5' },
  compare: { type: 'string' },
} });

const photos = sharedPath('images', 'imagenet-samples');
if (!photos) {
  console.error('start-bench: ../shared/images/imagenet-samples is absent');
  process.exit(1);
}
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'xception-start-bench-'));
// Printed by the measured process itself as it exits: its whole CPU time (every thread) and peak RSS.
const PRELOAD = "data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('\\nSTART-BENCH '+JSON.stringify({cpuMs:(u.user+u.system)/1000,maxRssMb:process.resourceUsage().maxRSS/1024})+'\\n')})";
const twoPhotos = [join(photos, 'n01440764_tench.JPEG'), join(photos, 'n01498041_stingray.JPEG')];

const h5 = join(scratch, 'full-size.weights.h5');
const h5Config = resolveXceptionConfig({ weights: null });
await writeKeras3Weights(h5, { config: h5Config, values: saneRandomWeights(expectedWeights(h5Config), 1) });

interface Sample { wallMs: number; cpuMs: number; maxRssMb: number }
const cases: Record<string, string[]> = {
  '--version': ['--version'],
  'classify 2 photos, 71x71, warm cache': ['classify', ...twoPhotos, '--weights', 'none', '--image-size', '71', '--out', join(scratch, 'out.jsonl'), '-q'],
  'classify 2 photos, full-size Keras .h5, onnx, warm cache': ['classify', ...twoPhotos, '--weights', h5, '--engine', 'onnx', '--image-size', '71', '--out', join(scratch, 'out.jsonl'), '-q'],
  'tag 2 photos, full-size Keras .h5, onnx, warm cache': ['tag', join(scratch, 'album'), '--weights', h5, '--engine', 'onnx', '--image-size', '71', '-q'],
};

function once(checkout: string, argv: string[]): Sample {
  rmSync(join(scratch, 'out.jsonl'), { force: true });
  rmSync(join(scratch, 'out.jsonl.model.json'), { force: true });
  // tag: copies of the photos without sidecars (a tagged album is not classified again; the originals are only read).
  rmSync(join(scratch, 'album'), { recursive: true, force: true });
  mkdirSync(join(scratch, 'album'));
  for (const photo of twoPhotos) copyFileSync(photo, join(scratch, 'album', photo.split('/').pop()!));
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', PRELOAD, join(checkout, 'apps/worker/dist/cli.js'), ...argv], { encoding: 'utf8' });
  const wallMs = performance.now() - started;
  const line = /START-BENCH (.*)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !line) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { wallMs, ...(JSON.parse(line[1]!) as { cpuMs: number; maxRssMb: number }) };
}

const checkouts = [repo, ...(args.compare ? [resolve(args.compare)] : [])];
const results: Record<string, Record<string, Sample[]>> = {};
try {
  for (const checkout of checkouts) for (const [name, argv] of Object.entries(cases)) if (name !== '--version') once(checkout, argv); // fills the caches
  for (let i = 0; i < Number(args.repeat); i++) {
    for (const checkout of checkouts) {
      for (const [name, argv] of Object.entries(cases)) ((results[checkout] ??= {})[name] ??= []).push(once(checkout, argv));
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = Object.entries(results).flatMap(([checkout, byCase]) => Object.entries(byCase).map(([name, samples]) => ({
  checkout, case: name, runs: samples.length,
  wallMs: Math.round(median(samples.map((s) => s.wallMs))), cpuMs: Math.round(median(samples.map((s) => s.cpuMs))), maxRssMb: Math.round(median(samples.map((s) => s.maxRssMb))),
})));
console.table(summary);
mkdirSync(join(repo, 'bench', 'results'), { recursive: true });
writeFileSync(join(repo, 'bench', 'results', 'start.json'), `${JSON.stringify({ cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, medians: summary, results }, null, 2)}\n`);
