/**
 * The batch worker's figures: inference-only ms/image for each engine that loads here, and the
 * end-to-end images/s of `xception classify` over ../shared/images (decode, resize, inference,
 * durable writes), beside the inference-only throughput of the same engine. 299x299, seeded
 * random weights (the same arithmetic as ImageNet's). Writes bench/results/worker.json.
 * Usage: pnpm --filter @xception/worker bench [-- --threads 2 --batch 8 --cpu]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { sharedPath } from '@xception/core/testing';
import type { EngineOptions, InferenceEngine } from '../src/engines/engine.js';
import { probeTfjsNode } from '../src/engines/tfjs-node-probe.js';
import { createInProcessEngine } from '../src/engines/tfjs-engine.js';
import { createWasmPoolEngine } from '../src/engines/wasm-pool-engine.js';

const { values: args } = parseArgs({ options: {
  threads: { type: 'string', default: String(availableParallelism()) },
  batch: { type: 'string', default: '8' },
  cpu: { type: 'boolean', default: false },
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
if (photos) {
  const dir = mkdtempSync(join(tmpdir(), 'xception-bench-'));
  const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', cli, 'classify', photos, '--out', join(dir, 'r.jsonl'),
    '--weights', 'none', '--engine', 'wasm', '--threads', String(threads), '--batch-size', String(batch), '--log-format', 'json'], { encoding: 'utf8' });
  const summary = run.stderr.split('\n').filter((l) => l.includes('"event":"summary"')).map((l) => JSON.parse(l))[0];
  rmSync(dir, { recursive: true, force: true });
  if (summary) {
    const poolMs = rows.find((r) => r.engine === `wasm, ${threads} worker thread${threads === 1 ? '' : 's'}`)?.msPerImage as number;
    endToEnd = { images: summary.done, seconds: summary.seconds, imagesPerSecond: summary.imagesPerSecond, inferenceOnlyImagesPerSecond: 1000 / poolMs };
  } else {
    console.error(run.stderr);
  }
}

console.log(`\nxception worker, 299x299, batch ${batch}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'})`);
console.log('| engine | ms/image (inference only) |');
console.log('|---|---|');
for (const r of rows) console.log(`| ${r.engine} | ${r.msPerImage === null ? `n/a: ${r.note}` : (r.msPerImage as number).toFixed(0)} |`);
if (endToEnd) {
  const ratio = (endToEnd.imagesPerSecond as number) / (endToEnd.inferenceOnlyImagesPerSecond as number);
  console.log(`\nend to end, xception classify over ${endToEnd.images} shared photos (wasm, ${threads} threads): ` +
    `${(endToEnd.imagesPerSecond as number).toFixed(2)} images/s in ${(endToEnd.seconds as number).toFixed(1)} s; ` +
    `inference alone ${(endToEnd.inferenceOnlyImagesPerSecond as number).toFixed(2)} images/s; ratio ${(ratio * 100).toFixed(0)}%`);
}
const out = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'worker.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, batch, threads, inferenceOnly: rows, endToEnd }, null, 2));
console.log(`written ${join(out, 'worker.json')}`);
