/**
 * The batch worker's figures: inference-only ms/image for each engine that loads here, and the
 * end-to-end images/s of `xception classify` over ../shared/images (decode, resize, inference,
 * durable writes), beside the inference-only throughput of the same engine. 299x299, seeded
 * random weights (the same arithmetic as ImageNet's). Writes bench/results/worker.json.
 * Also `xception predict --engine onnx` per image against a plain onnxruntime session on the same
 * exported file (`--only predict` measures just that).
 * The end-to-end runs also report their peak RSS (the CLI summary's peakRssBytes).
 * Runs apps/worker/dist/cli.js: build first (node_modules/.bin/turbo run build).
 * Usage: pnpm --filter @xception/worker bench [-- --threads 2 --batch 8 --cpu --only predict]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@xception/test-kit';
import * as ort from 'onnxruntime-node';
import { exportXceptionOnnx, ONNX_IO } from '@xception/onnx';
import { writeNpy } from '@xception/batch';
import { createInProcessEngine, createOnnxEngine, createWasmPoolEngine, onnxSessionOptions, probeTfjsNode, type EngineOptions, type InferenceEngine } from '@xception/engines';

const { values: args } = parseArgs({ options: {
  threads: { type: 'string', default: String(availableParallelism()) },
  batch: { type: 'string', default: '8' },
  cpu: { type: 'boolean', default: false },
  /** 'predict': only `predict --engine onnx` against the plain session (quick). */
  only: { type: 'string' },
} });
const threads = Number(args.threads);
const batch = Number(args.batch);
const options: EngineOptions = { model: { includeTop: true, weights: null }, weights: null };

async function inferenceOnly(engine: InferenceEngine, images: number): Promise<number> {
  const pixels = new Uint8Array(batch * 299 * 299 * 3).map((_, i) => (i * 7919) % 256);
  const one = { pixels, count: batch, height: 299, width: 299 };
  await Promise.all(Array.from({ length: engine.parallelism }, () => engine.run(one))); // warm-up
  const start = performance.now();
  const rounds = Math.max(1, Math.ceil(images / batch / engine.parallelism));
  for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: engine.parallelism }, () => engine.run(one)));
  return (performance.now() - start) / (rounds * engine.parallelism * batch);
}

const rows: Array<Record<string, unknown>> = [];

// onnxruntime: a plain session on the exported .onnx file against the worker's engine, same
// float32 NHWC batch, same thread count, interleaved rounds so that drift hits both alike.
const onnxDir = mkdtempSync(join(tmpdir(), 'xception-bench-onnx-'));
const onnxFile = join(onnxDir, 'xception.onnx');
writeFileSync(onnxFile, exportXceptionOnnx(options.model, null).bytes);
const floats = new Float32Array(batch * 299 * 299 * 3).map((_, i) => Math.sin(i * 0.37));
const plain = await ort.InferenceSession.create(onnxFile, onnxSessionOptions(['cpu'], threads));
const engineOnnx = await createOnnxEngine({ ...options, threads });
const feeds = { [ONNX_IO.input]: new ort.Tensor('float32', floats, [batch, 299, 299, 3]) };
const oneEngine = { pixels: floats, count: batch, height: 299, width: 299 };
await plain.run(feeds); await engineOnnx.run(oneEngine); // warm-up
const times = { plain: [] as number[], engine: [] as number[] };
for (let r = 0; r < 4; r++) {
  let t = performance.now(); await plain.run(feeds); times.plain.push((performance.now() - t) / batch);
  t = performance.now(); await engineOnnx.run(oneEngine); times.engine.push((performance.now() - t) / batch);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const onnxPlainMs = median(times.plain);
const onnxEngineMs = median(times.engine);
await plain.release();

// `xception predict --engine onnx` (the CLI, as a user runs it, default threads) on the same
// batch against a fresh plain session's first run on the same file: both pay the first run's
// allocations. Per-image time of predict's inference, from its log line.
const xFile = join(onnxDir, 'x.npy');
await writeNpy(xFile, { data: floats, shape: [batch, 299, 299, 3] });
const cold = await ort.InferenceSession.create(onnxFile, onnxSessionOptions(['cpu'], threads));
let t0 = performance.now();
await cold.run(feeds);
const plainColdMs = (performance.now() - t0) / batch;
await cold.release();
// The built CLI, as users run it: from the sources, tsx's work in the main thread would share
// the 2 cores with onnxruntime's intra-op threads during the one timed run.
const predictRun = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/cli.js', import.meta.url)), 'predict',
  '--weights', 'none', '--input', xFile, '--output', join(onnxDir, 'y.npy'), '--engine', 'onnx'], { encoding: 'utf8' });
const predictMs = Number(/inference [\d.]+ ms, ([\d.]+) ms\/image/.exec(predictRun.stderr)?.[1] ?? NaN);
if (!Number.isFinite(predictMs)) console.error(predictRun.stderr);
const predictRow = { predictMsPerImage: predictMs, plainFirstRunMsPerImage: plainColdMs, plainWarmMsPerImage: onnxPlainMs, ratioToPlainFirstRun: predictMs / plainColdMs, batch, detail: /\(engine (.*?); inference/.exec(predictRun.stderr)?.[1] ?? null };
console.log(`predict --engine onnx: ${predictMs.toFixed(1)} ms/image; plain session on the same file: ${plainColdMs.toFixed(1)} ms/image first run, ${onnxPlainMs.toFixed(1)} warm; predict / plain first run = ${(predictMs / plainColdMs).toFixed(3)}`);
if (args.only === 'predict') {
  const out = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'worker-predict.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, threads, predict: predictRow }, null, 2));
  await engineOnnx.dispose();
  rmSync(onnxDir, { recursive: true, force: true });
  console.log(`written ${join(out, 'worker-predict.json')}`);
  process.exit(0);
}
rows.push({ engine: `plain onnxruntime session on the .onnx file (${threads} threads)`, msPerImage: onnxPlainMs });
rows.push({ engine: engineOnnx.detail, msPerImage: onnxEngineMs, speedVsPlain: onnxPlainMs / onnxEngineMs });
const uint8Ms = await inferenceOnly(engineOnnx, 4 * batch);
rows.push({ engine: `${engineOnnx.detail}, uint8 pixels (preprocessing included)`, msPerImage: uint8Ms });
await engineOnnx.dispose();
rmSync(onnxDir, { recursive: true, force: true });
const tfjsNode = await probeTfjsNode();
if (tfjsNode.available) {
  const engine = await createInProcessEngine('tensorflow', options, tfjsNode.detail);
  rows.push({ engine: engine.detail, msPerImage: await inferenceOnly(engine, 32) });
  await engine.dispose();
} else {
  rows.push({ engine: 'tfjs-node', msPerImage: null, note: tfjsNode.detail });
}
for (const n of [...new Set([1, threads])]) {
  const engine = await createWasmPoolEngine({ ...options, threads: n });
  rows.push({ engine: engine.detail, msPerImage: await inferenceOnly(engine, 16 * n) });
  await engine.dispose();
}
if (args.cpu) {
  const engine = await createInProcessEngine('cpu', options, 'cpu');
  rows.push({ engine: 'cpu', msPerImage: await inferenceOnly(engine, batch) });
  await engine.dispose();
} else {
  rows.push({ engine: 'cpu', msPerImage: null, note: 'skipped (25-35 s/image here); --cpu to measure' });
}

// End to end: the real CLI over the shared photos.
const photos = sharedPath('images', 'imagenet-samples');
let endToEnd: Record<string, unknown> | null = null;
let endToEndOnnx: Record<string, unknown> | null = null;
if (photos) {
  const dir = mkdtempSync(join(tmpdir(), 'xception-bench-'));
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url)); // built, as users run it
  const run = spawnSync(process.execPath, [cli, 'classify', photos, '--out', join(dir, 'r.jsonl'),
    '--weights', 'none', '--engine', 'onnx', '--threads', String(threads), '--batch-size', String(batch), '--log-format', 'json'], { encoding: 'utf8' });
  const summary = run.stderr.split('\n').filter((l) => l.includes('"event":"summary"')).map((l) => JSON.parse(l))[0];
  rmSync(dir, { recursive: true, force: true });
  if (summary) endToEndOnnx = { images: summary.done, seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond, inferenceOnlyImagesPerSecond: 1000 / uint8Ms, peakRssBytes: summary.peakRssBytes };
  else console.error(run.stderr);
}
if (photos) {
  const dir = mkdtempSync(join(tmpdir(), 'xception-bench-'));
  const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url)); // built, as users run it
  const run = spawnSync(process.execPath, [cli, 'classify', photos, '--out', join(dir, 'r.jsonl'),
    '--weights', 'none', '--engine', 'wasm', '--threads', String(threads), '--batch-size', String(batch), '--log-format', 'json'], { encoding: 'utf8' });
  const summary = run.stderr.split('\n').filter((l) => l.includes('"event":"summary"')).map((l) => JSON.parse(l))[0];
  rmSync(dir, { recursive: true, force: true });
  if (summary) {
    const poolMs = rows.find((r) => r.engine === `wasm, ${threads} worker thread${threads === 1 ? '' : 's'}`)?.msPerImage as number;
    endToEnd = { images: summary.done, seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond, inferenceOnlyImagesPerSecond: 1000 / poolMs, peakRssBytes: summary.peakRssBytes };
  } else {
    console.error(run.stderr);
  }
}

/** The CLI's summary reports process.resourceUsage().maxRSS: main and worker threads together. */
function mb(bytes: unknown): string {
  return typeof bytes === 'number' ? `${(bytes / 2 ** 20).toFixed(0)} MiB` : 'n/a';
}

console.log(`\nxception worker, 299x299, batch ${batch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
console.log('| engine | ms/image (inference only) |');
console.log('|---|---|');
for (const r of rows) console.log(`| ${r.engine} | ${r.msPerImage === null ? `n/a: ${r.note}` : (r.msPerImage as number).toFixed(1)}${r.speedVsPlain ? ` (${(r.speedVsPlain as number).toFixed(3)} of the plain session's speed)` : ''} |`);
if (endToEndOnnx) {
  console.log(`\nend to end, xception classify over ${endToEndOnnx.images} shared photos (--engine onnx, ${threads} threads): ` +
    `${(endToEndOnnx.imagesPerSecond as number).toFixed(2)} images/s in ${(endToEndOnnx.seconds as number).toFixed(1)} s; ` +
    `inference alone ${(endToEndOnnx.inferenceOnlyImagesPerSecond as number).toFixed(2)} images/s; ` +
    `ratio ${((endToEndOnnx.imagesPerSecond as number) / (endToEndOnnx.inferenceOnlyImagesPerSecond as number) * 100).toFixed(0)}%; ` +
    `peak RSS ${mb(endToEndOnnx.peakRssBytes)}`);
}
if (endToEnd) {
  const ratio = (endToEnd.imagesPerSecond as number) / (endToEnd.inferenceOnlyImagesPerSecond as number);
  console.log(`\nend to end, xception classify over ${endToEnd.images} shared photos (wasm, ${threads} threads): ` +
    `${(endToEnd.imagesPerSecond as number).toFixed(2)} images/s in ${(endToEnd.seconds as number).toFixed(1)} s; ` +
    `inference alone ${(endToEnd.inferenceOnlyImagesPerSecond as number).toFixed(2)} images/s; ratio ${(ratio * 100).toFixed(0)}%; peak RSS ${mb(endToEnd.peakRssBytes)}`);
}
const out = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'worker.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, batch, threads, inferenceOnly: rows, predict: predictRow, endToEnd, endToEndOnnx, onnxRounds: times }, null, 2));
console.log(`written ${join(out, 'worker.json')}`);
