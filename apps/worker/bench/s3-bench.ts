/**
 * classify from S3 against the same photos on local disk, and the listing's memory.
 * 1. images/s of `xception classify s3://bucket/photos/` and of `xception classify <folder>` over
 *    the same photos, same engine and flags (onnx, random weights at 299x299), alternated
 *    `--rounds` times; the ratio S3 / disk of the best of each (issue 21 wants >= 0.9).
 * 2. Peak RSS of the s3:// listing (listInputs, the CLI's code) over 100,000 tiny objects, taken
 *    every 10,000 entries: flat means the listing is streamed, not collected. The objects are
 *    created once and kept in the server (scripts/services/s3.sh).
 * Needs the S3 server (it starts it through the test kit, or skips with the reason) and the shared photos.
 * Writes bench/results/s3.json; never asserts. Usage: pnpm --filter @xception/worker bench:s3 [-- --photos 64 --rounds 2 --objects 100000]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { listInputs } from '@xception/batch';
import { createS3Client } from '@xception/batch/s3';
import { s3Server, sharedPath } from '@xception/test-kit';

const { values: args } = parseArgs({ options: { photos: { type: 'string', default: '64' }, rounds: { type: 'string', default: '2' }, objects: { type: 'string', default: '100000' } } });
const server = s3Server();
const photosDir = sharedPath('images', 'imagenet-samples');
if ('skip' in server || !photosDir) {
  console.log(`s3 bench ${'skip' in server ? server.skip : 'skipped: no shared photos'}`);
  process.exit(0);
}
Object.assign(process.env, server.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
const client = createS3Client();
const BUCKET = 'xception-bench';
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/** Runs `count` puts, `width` at a time. */
async function putAll(count: number, put: (i: number) => Promise<unknown>, width = 32): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < count) await put(next++);
  }));
}

const exists = (key: string): Promise<boolean> => client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })).then(() => true, () => false);

/** One CLI run's images/s (its JSON summary), its wall time and peak RSS. */
function classify(input: string, dir: string): { imagesPerSecond: number; seconds: number; peakRssMB: number; ok: number } {
  const out = join(dir, `${Date.now()}.jsonl`);
  const run = spawnSync(process.execPath, [cli, 'classify', input, '--out', out, '--weights', 'none', '--engine', 'onnx', '--log-format', 'json'], { encoding: 'utf8' });
  const line = run.stderr.split('\n').find((l) => l.includes('"event":"summary"'));
  const summary = line ? JSON.parse(line) as Record<string, number> : null;
  if (!summary) throw new Error(`classify ${input} gave no summary (exit ${run.status}): ${run.stderr.slice(-500)}`);
  rmSync(out, { force: true });
  return { imagesPerSecond: summary.imagesPerSecond!, seconds: summary.seconds!, peakRssMB: summary.peakRssBytes! / 2 ** 20, ok: summary.ok! };
}

async function throughput(count: number, rounds: number): Promise<Record<string, unknown>> {
  const names = readdirSync(photosDir!).sort().slice(0, count);
  const dir = mkdtempSync(join(tmpdir(), 'xception-s3-bench-'));
  const local = join(dir, 'photos');
  mkdirSync(local);
  for (const name of names) symlinkSync(join(photosDir!, name), join(local, name)); // read in place, not copied
  const prefix = `photos-${count}/`;
  if (!(await exists(`${prefix}${names.at(-1)}`))) await putAll(names.length, (i) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${names[i]}`, Body: readFileSync(join(local, names[i]!)) })), 8);
  const disk: ReturnType<typeof classify>[] = [];
  const s3: ReturnType<typeof classify>[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      disk.push(classify(local, dir));
      s3.push(classify(`s3://${BUCKET}/${prefix}`, dir));
      console.log(`round ${round + 1}: disk ${disk.at(-1)!.imagesPerSecond.toFixed(2)} images/s, s3 ${s3.at(-1)!.imagesPerSecond.toFixed(2)} images/s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const best = (runs: ReturnType<typeof classify>[]): number => Math.max(...runs.map((r) => r.imagesPerSecond));
  const ratio = best(s3) / best(disk);
  console.log(`classify ${count} photos (onnx, 299x299, random weights): disk ${best(disk).toFixed(2)} images/s, s3:// ${best(s3).toFixed(2)} images/s; ratio ${ratio.toFixed(3)} (best of ${rounds} each)`);
  return { photos: count, disk, s3, ratio };
}

async function listingMemory(count: number): Promise<Record<string, unknown>> {
  const prefix = `many-${count}/`;
  const key = (i: number): string => `${prefix}${String(i).padStart(7, '0')}.jpg`;
  if (!(await exists(key(count - 1)))) {
    const start = performance.now();
    await putAll(count, (i) => client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(i), Body: 'x' })));
    console.log(`created ${count} objects under s3://${BUCKET}/${prefix} in ${((performance.now() - start) / 1000).toFixed(0)} s (once: they stay for the next run)`);
  }
  const rssMB = (): number => process.resourceUsage().maxRSS / 1024;
  const samples: { entries: number; peakRssMB: number }[] = [{ entries: 0, peakRssMB: rssMB() }];
  const start = performance.now();
  let entries = 0;
  for await (const entry of listInputs([`s3://${BUCKET}/${prefix}`], { recursive: false, s3Client: () => client })) {
    if (!entry.ok) throw new Error(`${entry.path}: ${entry.message}`);
    if (++entries % 10_000 === 0) samples.push({ entries, peakRssMB: rssMB() });
  }
  const seconds = (performance.now() - start) / 1000;
  const growth = samples.at(-1)!.peakRssMB - samples[1]!.peakRssMB;
  console.log(`listed ${entries} objects in ${seconds.toFixed(1)} s (${(entries / seconds).toFixed(0)} objects/s); peak RSS ${samples.map((s) => s.peakRssMB.toFixed(0)).join(', ')} MB before and at every 10,000; growth from 10,000 to ${entries}: ${growth.toFixed(1)} MB`);
  return { objects: entries, seconds, samples, growthMB: growth };
}

await (client as S3Client).send(new CreateBucketCommand({ Bucket: BUCKET })).catch(() => undefined); // exists from an earlier run
const listing = await listingMemory(Number(args.objects)); // first, while this process holds nothing else
const classifyRuns = await throughput(Number(args.photos), Number(args.rounds));
const out = fileURLToPath(new URL('../../../bench/results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 's3.json'), JSON.stringify({ date: new Date().toISOString(), cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, server: 'Ceph radosgw 16.2 on 127.0.0.1 (scripts/services/s3.sh)', classify: classifyRuns, listing }, null, 2));
