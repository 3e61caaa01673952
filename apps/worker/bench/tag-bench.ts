/**
 * `xception tag` (decode, classify, tag rules, XMP merge, atomic sidecar writes) against
 * `xception classify` (decode, classify, results file) on the same photos, the same engine and
 * the same seeded random weights (ImageNet's arithmetic), both as real child processes over a
 * fresh temp copy of ../shared/images/imagenet-samples. Photos/s by wall clock, start-up
 * included for both (use --repeat to amortise it), plus each command's own summary; then a
 * second `tag` over the tagged copy (nothing to classify, nothing to write).
 * Writes bench/results/tag.json.
 * Runs apps/worker/dist/cli.js: build first (node_modules/.bin/turbo run build).
 * Usage: pnpm --filter @xception/worker bench:tag [-- --engine onnx --threads 2 --batch 8 --repeat 3 --photos 186 --image-size 299]
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@xception/test-kit';

const { values: args } = parseArgs({ options: {
  engine: { type: 'string', default: 'onnx' },
  threads: { type: 'string', default: String(availableParallelism()) },
  batch: { type: 'string', default: '8' },
  repeat: { type: 'string', default: '1' },
  photos: { type: 'string' },
  'image-size': { type: 'string', default: '299' },
} });

const source = sharedPath('images', 'imagenet-samples');
if (!source) {
  console.error('tag-bench: ../shared/images/imagenet-samples is missing; nothing to measure.');
  process.exit(1);
}
const names = readdirSync(source).sort().slice(0, args.photos ? Number(args.photos) : undefined);
const repeat = Number(args.repeat);
const root = mkdtempSync(join(tmpdir(), 'xception-tag-bench-'));
// The CLI as users run it (built): from the sources, tsx's start-up would weigh on both sides.
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error(`tag-bench: ${cli} is missing; build first (node_modules/.bin/turbo run build).`);
  process.exit(1);
}
const common = ['--weights', 'none', '--engine', args.engine!, '--threads', args.threads!, '--batch-size', args.batch!, '--image-size', args['image-size']!, '--log-format', 'json'];

/** A fresh copy of the photos (repeat times, renamed), so that no run sees another's sidecars. */
function copyPhotos(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (let r = 0; r < repeat; r++) for (const photo of names) copyFileSync(join(source!, photo), join(dir, `${r}-${photo}`));
  return dir;
}

interface Measured { wallSeconds: number; photosPerSecond: number; summary: Record<string, unknown> }

function measure(argv: string[], photos: number): Measured {
  const start = performance.now();
  const run = spawnSync(process.execPath, [cli, ...argv, ...common], { encoding: 'utf8' });
  const wallSeconds = (performance.now() - start) / 1000;
  const summary = run.stderr.split('\n').filter((l) => l.includes('"event":"summary"')).map((l) => JSON.parse(l) as Record<string, unknown>)[0];
  if (run.status !== 0 || !summary) throw new Error(`${argv[0]} failed (exit ${run.status}):\n${run.stderr}`);
  return { wallSeconds, photosPerSecond: photos / wallSeconds, summary };
}

const count = names.length * repeat;
try {
  const classifyDir = copyPhotos('classify');
  const classify = measure(['classify', classifyDir, '--out', join(root, 'classify.jsonl')], count);
  const tagDir = copyPhotos('tag');
  const tag = measure(['tag', tagDir], count);
  const rerun = measure(['tag', tagDir], count);
  const ratio = tag.photosPerSecond / classify.photosPerSecond;
  console.log(`\nxception tag vs classify, ${count} photos (${names.length} x ${repeat}), ${args['image-size']}x${args['image-size']}, --engine ${args.engine}, ${args.threads} threads, batch ${args.batch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
  console.log('| command | wall s | photos/s (wall) |');
  console.log('|---|---|---|');
  console.log(`| classify | ${classify.wallSeconds.toFixed(1)} | ${classify.photosPerSecond.toFixed(2)} |`);
  console.log(`| tag | ${tag.wallSeconds.toFixed(1)} | ${tag.photosPerSecond.toFixed(2)} |`);
  console.log(`| tag again (nothing to classify or write) | ${rerun.wallSeconds.toFixed(1)} | ${rerun.photosPerSecond.toFixed(2)} |`);
  console.log(`tag / classify: ${ratio.toFixed(3)}`);
  const out = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tag.json'), JSON.stringify({
    date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version,
    photos: count, engine: args.engine, threads: Number(args.threads), batch: Number(args.batch), imageSize: Number(args['image-size']),
    classify, tag, tagRerun: rerun, tagOverClassify: ratio,
  }, null, 2));
  console.log(`written ${join(out, 'tag.json')}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
