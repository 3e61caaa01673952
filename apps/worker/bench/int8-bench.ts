/**
 * int8 against fp32, in one run, on the same photos and threads (default 2), 299x299, the 186
 * shared photos (../shared/images/imagenet-samples), Keras' Xception topology as a tfjs
 * model.json with seeded weights of a trained network's scale (saneRandomWeights: logits spread
 * over a few units; Keras' own initialisers leave the class scores ~1e-9 apart, where top-1
 * agreement measures rounding noise, see @xception/onnx's README):
 * 1. `xception quantize` calibrates our QDQ int8 model on the first 64 photos (sorted by name);
 *    onnxruntime's own `quantize_static` (Python; QDQ, per-channel int8 weights, uint8
 *    activations, min-max, the same op types: the classifier's Gemm stays float in both) quantizes the same fp32 export on the same 48
 *    calibrating photos (the 16 held out by ours are held out from it too);
 * 2. fp32, our int8 and onnxruntime's int8 run the 122 other photos in batches of 8, the three
 *    sessions interleaved batch by batch (same session options as the engine): ms/image, and
 *    each int8 model's agreement with fp32 (top-1, top-5 overlap, embedding cosine);
 * 3. `xception classify` and `xception embed`, fp32 and `--precision int8`, over all 186 photos
 *    end to end (decoding included): images/s and the same agreement figures from their files.
 * `--methods` also calibrates by percentile and entropy (calibrateInt8) and measures them alike.
 * Prints a table and writes bench/results/int8.json; asserts nothing. Build first (turbo build).
 * Usage: pnpm --filter @xception/worker bench:int8 [-- --threads 2 --methods]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readNpy } from '@xception/batch';
import { onnxSessionOptions } from '@xception/engines';
import { calibrateInt8, cosineOf, exportXceptionOnnx, ONNX_IO, topK, type CalibrationMethod, type OrtForCalibration } from '@xception/onnx';
import { expectedWeights, resolveXceptionConfig } from '@xception/core';
import { saneRandomWeights } from '@xception/core/testing';
import { decodeCalibrationPhotos } from '@xception/runtime';
import { writeTfjsArtifacts } from '@xception/weights';
import { oraclePython, sharedPath } from '@xception/test-kit';

const { values: args } = parseArgs({ options: { threads: { type: 'string', default: '2' }, methods: { type: 'boolean', default: false } } });
const threads = Number(args.threads);
const BATCH = 8, SIZE = 299, CALIBRATION = 64;
const photosDir = sharedPath('images', 'imagenet-samples');
const python = oraclePython();
if (!photosDir || !python) {
  console.log(`int8 bench skipped: ${!photosDir ? 'no ../shared/images' : 'no oracle Python (bash scripts/python-env.sh) for quantize_static'}`);
  process.exit(0);
}
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'xception-int8-bench-'));
const env = { ...process.env, XCEPTION_HOME: join(work, 'home') };
const photos = readdirSync(photosDir).sort().map((f) => join(photosDir, f));
const calibrationDir = join(work, 'calibrate');
mkdirSync(calibrationDir);
for (const p of photos.slice(0, CALIBRATION)) symlinkSync(p, join(calibrationDir, p.split('/').pop()!));

const config = resolveXceptionConfig({ weights: null });
const modelJson = join(work, 'model', 'model.json');
await writeTfjsArtifacts({ outDir: join(work, 'model'), config, values: saneRandomWeights(expectedWeights(config), 4), quantize: null });

/**
 * Runs the built CLI. A model refused by the agreement guard (exit 1, "--precision int8
 * refused: …") is a finding, not a failure: `refused` holds the sentence. On these seeded
 * weights one flipped near-tie among the 16 held-out photos refuses (see the header).
 */
const runCli = (argv: string[]): { stderr: string; seconds: number; refused: string | null } => {
  const t = performance.now();
  const r = spawnSync(process.execPath, [cli, ...argv], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const refused = r.status === 1 ? (/^xception: (--precision int8 refused: .*)$/m.exec(r.stderr)?.[1] ?? null) : null;
  if (r.status !== 0 && !refused) throw new Error(`xception ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stderr: r.stderr, seconds: (performance.now() - t) / 1000, refused };
};

// 1. Ours, by the CLI as a user makes it; the fp32 export it was made from is the cache's other
// model. A refused model is in the cache all the same: the sessions below still measure it.
const quantize = runCli(['quantize', '--weights', modelJson, '--calibrate', calibrationDir, '--threads', String(threads)]);
if (quantize.refused) console.log(`our int8 model was refused by its guard: ${quantize.refused}\n(the sessions below run it all the same; the CLI's int8 runs pass it over and calibrate on their own first inputs, or are refused too)`);
const cacheDir = join(work, 'home', 'onnx');
const int8File = join(cacheDir, readdirSync(cacheDir).find((n) => n.endsWith('.int8.json'))!.replace(/\.int8\.json$/, ''));
const fp32File = join(cacheDir, readdirSync(cacheDir).find((n) => /^xception-[0-9a-f]{24}\.onnx$/.test(n))!);
const ourRecord = JSON.parse(readFileSync(`${int8File}.int8.json`, 'utf8'));

// onnxruntime's quantize_static on the same export and the same 48 calibrating photos (the same pixels, decoded by us).
const calibrationImages = await decodeCalibrationPhotos(photos.slice(0, CALIBRATION), [SIZE, SIZE]);
const per = SIZE * SIZE * 3;
const calibrating = Array.from({ length: CALIBRATION }, (_, i) => i).filter((i) => i % 4 !== 3);
const calibrationPixels = new Float32Array(calibrating.length * per);
calibrating.forEach((i, k) => calibrationPixels.set(calibrationImages.pixels.subarray(i * per, (i + 1) * per), k * per));
writeFileSync(join(work, 'calibration.f32'), calibrationPixels);
const ortFile = join(work, 'ort-int8.onnx');
let t0 = performance.now();
const py = spawnSync(python, ['-c', `
import sys, numpy as np
from onnxruntime.quantization import quantize_static, QuantFormat, QuantType, CalibrationDataReader, CalibrationMethod
src, dst, pixels, size = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
x = np.fromfile(pixels, dtype=np.float32).reshape(-1, size, size, 3)
class Photos(CalibrationDataReader):
    def __init__(self): self.it = iter([{'images': x[i:i + 1]} for i in range(len(x))])
    def get_next(self): return next(self.it, None)
quantize_static(src, dst, Photos(), quant_format=QuantFormat.QDQ, per_channel=True, activation_type=QuantType.QUInt8,
    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
    op_types_to_quantize=['Conv', 'Add', 'MaxPool', 'GlobalAveragePool', 'Relu'])
`, fp32File, ortFile, join(work, 'calibration.f32'), String(SIZE)], { encoding: 'utf8' });
if (py.status !== 0) throw new Error(`quantize_static failed: ${py.stderr}`);
const ortQuantizeSeconds = (performance.now() - t0) / 1000;

// 2. Sessions side by side on the other photos.
const others = await decodeCalibrationPhotos(photos.slice(CALIBRATION), [SIZE, SIZE]);
type Run = { ms: number; outputs: Float32Array[]; features: Float32Array[] };
async function sideBySide(files: Record<string, string>): Promise<Record<string, Run>> {
  const sessions = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await ort.InferenceSession.create(f, onnxSessionOptions(['cpu'], threads))] as const)));
  const runs: Record<string, Run> = Object.fromEntries(Object.keys(files).map((k) => [k, { ms: 0, outputs: [], features: [] }]));
  const warm = { [ONNX_IO.input]: new ort.Tensor('float32', others.pixels.slice(0, BATCH * per), [BATCH, SIZE, SIZE, 3]) };
  for (const s of Object.values(sessions)) await s.run(warm);
  for (let at = 0; at < others.count; at += BATCH) {
    const n = Math.min(BATCH, others.count - at);
    const feeds = { [ONNX_IO.input]: new ort.Tensor('float32', others.pixels.slice(at * per, (at + n) * per), [n, SIZE, SIZE, 3]) };
    for (const [k, s] of Object.entries(sessions)) {
      const t = performance.now();
      const r = await s.run(feeds);
      runs[k]!.ms += performance.now() - t;
      const out = r[ONNX_IO.output]!.data as Float32Array, feat = r[ONNX_IO.features]!.data as Float32Array;
      for (let i = 0; i < n; i++) { runs[k]!.outputs.push(out.slice(i * 1000, (i + 1) * 1000)); runs[k]!.features.push(feat.slice(i * 2048, (i + 1) * 2048)); }
    }
  }
  for (const s of Object.values(sessions)) await s.release();
  for (const r of Object.values(runs)) r.ms /= others.count;
  return runs;
}
function agreement(ref: Run, q: Run) {
  const n = ref.outputs.length;
  let top1 = 0, top5 = 0, cosine = 0;
  const flipped: number[] = []; // fp32's top-1 minus top-2 score where int8's top-1 differs: how close a call each was
  for (let i = 0; i < n; i++) {
    const a = topK(ref.outputs[i]!, 5), b = topK(q.outputs[i]!, 5);
    if (a[0] === b[0]) top1++;
    else flipped.push(ref.outputs[i]![a[0]!]! - ref.outputs[i]![a[1]!]!);
    top5 += a.filter((c) => b.includes(c)).length / 5;
    cosine += cosineOf(ref.features[i]!, q.features[i]!);
  }
  const gaps = ref.outputs.map((o) => { const [x, y] = topK(o, 2); return o[x!]! - o[y!]!; }).sort((x, y) => x - y);
  return { photos: n, top1: top1 / n, top5Overlap: top5 / n, embeddingCosine: cosine / n, flippedGaps: flipped.sort((x, y) => x - y), medianGap: gaps[Math.floor(n / 2)]! };
}
const files: Record<string, string> = { fp32: fp32File, ours: int8File, onnxruntime: ortFile };
if (args.methods) {
  const fp32Bytes = readFileSync(fp32File);
  for (const method of ['percentile', 'entropy'] as CalibrationMethod[]) {
    const c = await calibrateInt8(ort as unknown as OrtForCalibration, fp32Bytes, calibrationImages, method, threads);
    writeFileSync(join(work, `${method}.onnx`), c.bytes);
    files[method] = join(work, `${method}.onnx`);
  }
}
const runs = await sideBySide(files);
const sessionRows = Object.fromEntries(Object.entries(runs).map(([k, r]) => [k, {
  msPerImage: r.ms, speedupOverFp32: runs.fp32!.ms / r.ms, ...(k === 'fp32' ? {} : { agreement: agreement(runs.fp32!, r) }),
}]));

// 3. The CLI end to end over all 186 photos.
const summaryOf = (stderr: string) => JSON.parse(stderr.split('\n').find((l) => l.includes('"event":"summary"'))!);
const endToEnd: Record<string, { imagesPerSecond: number; seconds: number }> = {};
let cliRefused: string | null = null;
for (const precision of ['fp32', 'int8']) {
  for (const kind of ['classify', 'embed']) {
    const out = join(work, `${kind}-${precision}.${kind === 'classify' ? 'jsonl' : 'npy'}`);
    const r = runCli([kind, photosDir, '--weights', modelJson, '--threads', String(threads), '--precision', precision, '--log-format', 'json', '--out', out]);
    if (r.refused) {
      cliRefused = r.refused;
      break;
    }
    const s = summaryOf(r.stderr);
    endToEnd[`${kind} ${precision}`] = { imagesPerSecond: s.imagesPerSecond, seconds: s.seconds };
  }
}
/** int8 against fp32 from the CLI's own files: top-1 and top-5 overlap of classify's rows, the cosine of embed's .npy rows. */
async function cliAgreement() {
  const rowsOf = (file: string) => new Map(readFileSync(join(work, file), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.top).map((r) => [r.path, r.top.map((t: { index: number }) => t.index)]));
  const [fpRows, qRows] = [rowsOf('classify-fp32.jsonl'), rowsOf('classify-int8.jsonl')];
  let top1 = 0, top5 = 0;
  for (const [path, a] of fpRows) { const b = qRows.get(path)!; if (a[0] === b[0]) top1++; top5 += a.filter((c: number) => b.includes(c)).length / a.length; }
  const [fpEmb, qEmb] = [await readNpy(join(work, 'embed-fp32.npy')), await readNpy(join(work, 'embed-int8.npy'))];
  const [fpPaths, qPaths] = ['fp32', 'int8'].map((p) => readFileSync(join(work, `embed-${p}.paths.txt`), 'utf8').trim().split('\n'));
  let cosine = 0;
  fpPaths!.forEach((p, i) => { const j = qPaths!.indexOf(p); cosine += cosineOf(fpEmb.data.subarray(i * 2048, (i + 1) * 2048) as Float32Array, qEmb.data.subarray(j * 2048, (j + 1) * 2048) as Float32Array); });
  return {
    photos: fpRows.size,
    classifySpeedup: endToEnd['classify int8']!.imagesPerSecond / endToEnd['classify fp32']!.imagesPerSecond,
    embedSpeedup: endToEnd['embed int8']!.imagesPerSecond / endToEnd['embed fp32']!.imagesPerSecond,
    top1: top1 / fpRows.size, top5Overlap: top5 / fpRows.size, embeddingCosine: cosine / fpPaths!.length,
  };
}
const cliRow = cliRefused ? { refused: cliRefused, endToEnd } : { ...(await cliAgreement()), endToEnd };

const f = (x: number, d = 3) => x.toFixed(d);
console.log(`\nint8 bench: ${cpus()[0]?.model}, ${threads} threads, ${SIZE}x${SIZE}, batch ${BATCH}, saneRandomWeights(seed 4) as a model.json`);
console.log(`our calibration (xception quantize, ${CALIBRATION} photos): ${f(quantize.seconds, 1)} s; recorded agreement ${JSON.stringify(ourRecord.agreement)}`);
console.log(`onnxruntime quantize_static (Python, same export and photos): ${f(ortQuantizeSeconds, 1)} s`);
console.log(`\nsessions on the ${others.count} other photos:\n  model         ms/image  x fp32  top-1  top-5  cosine`);
for (const [k, r] of Object.entries(sessionRows)) {
  const a = (r as { agreement?: ReturnType<typeof agreement> }).agreement;
  console.log(`  ${k.padEnd(12)} ${f(r.msPerImage, 1).padStart(8)}  ${f(r.speedupOverFp32, 2).padStart(6)}  ${a ? `${f(a.top1)}  ${f(a.top5Overlap)}  ${f(a.embeddingCosine, 5)}` : ''}`);
}
console.log(`  ours / onnxruntime time: ${f(runs.ours!.ms / runs.onnxruntime!.ms, 3)}`);
const ours = (sessionRows.ours as { agreement: ReturnType<typeof agreement> }).agreement;
console.log(`  fp32's top-1 - top-2 score where ours flips top-1: ${ours.flippedGaps.map((g) => f(g, 4)).join(', ')} (median over all photos ${f(ours.medianGap, 4)})`);
console.log(`\nxception classify / embed over ${photos.length} photos (end to end):`);
for (const [k, r] of Object.entries(endToEnd)) console.log(`  ${k.padEnd(14)} ${f(r.imagesPerSecond, 2)} images/s (${f(r.seconds, 1)} s)`);
if ('refused' in cliRow) console.log(`  int8: ${cliRow.refused}`);
else console.log(`  int8 / fp32 images/s: classify ${f(cliRow.classifySpeedup, 2)}x, embed ${f(cliRow.embedSpeedup, 2)}x; top-1 ${f(cliRow.top1)}, top-5 overlap ${f(cliRow.top5Overlap)}, embedding cosine ${f(cliRow.embeddingCosine, 5)}`);
const resultsDir = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'int8.json'), JSON.stringify({
  date: new Date().toISOString(), cpu: cpus()[0]?.model, cpus: cpus().length, node: process.version, threads, batch: BATCH,
  calibration: { photos: CALIBRATION, oursSeconds: quantize.seconds, ourRecord: ourRecord.agreement, onnxruntimeSeconds: ortQuantizeSeconds },
  sessions: sessionRows, cli: cliRow,
}, null, 2));
rmSync(work, { recursive: true, force: true });
