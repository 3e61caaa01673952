import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { oraclePython, readNpy, runOraclePython, s3Server, SKIP_NO_ORACLE_PYTHON, SKIP_NO_SHARED, sharedPath, startStaticServer, type StaticServer } from '@xception/test-kit';
import { jsonl, runCli } from '@xception/test-kit/worker-cli';

/**
 * classify and embed against a real S3 server (Ceph's radosgw, scripts/services/s3.sh): inputs
 * from an s3:// prefix, .tar shards in S3 and on disk, and a URL list, into s3:// outputs; each
 * run killed (SIGKILL) mid-way, then rerun from its --work-dir. Few processes: CI time.
 */
interface Row { path: string; top?: { index: number; score: number }[]; features?: number[]; error?: { code: string; message: string } }

// The test's own client: the AWS SDK's warning about its future Node 22 requirement is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const server = s3Server();
const skip = 'skip' in server ? server.skip : null;
if (skip) console.warn(skip);
const photos = sharedPath('images', 'imagenet-samples');
if (!photos) console.warn(SKIP_NO_SHARED);
const python = oraclePython();
if (!python) console.warn(SKIP_NO_ORACLE_PYTHON);

const CAP = 200_000;
const FAST = ['--weights', 'none', '--image-size', '71', '--batch-size', '2', '--threads', '1', '--quiet', '--max-input-bytes', String(CAP)];
const bySize = (): string[] => (photos ? readdirSync(photos).map((f) => join(photos, f)).sort((a, b) => statSync(a).size - statSync(b).size || a.localeCompare(b)) : []);
const images = bySize().slice(0, 4);
const big = bySize().find((p) => statSync(p).size > CAP)!;
const bucket = `xception-cli-${process.pid}-${Date.now()}`;
const s3env = 'env' in server ? server.env : {};

// Python's tarfile writes the shards (the independent writer): key.jpg + key.json per sample, as
// img2dataset does; cut.tar is shard.tar cut in the middle of member 000000001.jpg.
const WRITE_SHARDS = `
import io, json, os, sys, tarfile
out, photos = sys.argv[1], sys.argv[2:]
with tarfile.open(os.path.join(out, 'shard.tar'), 'w') as tar:
    for i, photo in enumerate(photos):
        tar.add(photo, arcname='%09d.jpg' % i)
        meta = json.dumps({'source': os.path.basename(photo)}).encode()
        info = tarfile.TarInfo('%09d.json' % i); info.size = len(meta); tar.addfile(info, io.BytesIO(meta))
with tarfile.open(os.path.join(out, 'shard.tar')) as tar:
    cut = tar.getmember('000000001.jpg')
data = open(os.path.join(out, 'shard.tar'), 'rb').read()
open(os.path.join(out, 'cut.tar'), 'wb').write(data[:cut.offset_data + cut.size // 2])
`;

describe.skipIf(skip !== null || !photos || !python)('s3:// inputs and outputs on a real radosgw', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xception-s3-cli-'));
  const client = new S3Client({ endpoint: s3env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: s3env.AWS_ACCESS_KEY_ID!, secretAccessKey: s3env.AWS_SECRET_ACCESS_KEY! }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const env = { ...s3env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const put = (key: string, file: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(file) }));
  const get = async (key: string): Promise<Buffer> => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
  const exists = (key: string) => client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
  let http: StaticServer;
  const list = join(dir, 'inputs.txt');
  const localShard = join(dir, 'local.tar');
  // Members of shard.tar are the photos in order: 000000002.jpg is images[2].
  const sourceOf = (path: string): string => {
    const member = /#(\d+)\.jpg$/.exec(path);
    return member ? basename(images[Number(member[1])]!) : basename(path);
  };

  beforeAll(async () => {
    runOraclePython(python!, WRITE_SHARDS, [dir, ...images.slice(0, 3)]);
    copyFileSync(join(dir, 'shard.tar'), localShard);
    http = await startStaticServer({ root: photos! });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    for (const image of images) await put(`in/${basename(image)}`, image);
    await put('in/big.jpg', big);
    await put('shards/shard.tar', join(dir, 'shard.tar'));
    await put('shards/cut.tar', join(dir, 'cut.tar'));
    writeFileSync(list, `# URLs and objects\n${http.url}/${basename(images[0]!)}\n${http.url}/missing.jpg\ns3://${bucket}/in/missing.jpg\n`);
  }, 300_000);
  afterAll(async () => {
    await http?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The photos on disk go in the same runs: their rows are what the s3:// and URL rows must equal.
  const inputs = [`s3://${bucket}/in`, `s3://${bucket}/shards/`, localShard, ...images, '--input-list', list];
  const onDisk = (path: string): boolean => images.includes(path);
  const s3Photos = [...images.map((p) => `s3://${bucket}/in/${basename(p)}`), `s3://${bucket}/in/big.jpg`];
  const members = (shard: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${shard}#${String(i).padStart(9, '0')}.jpg`);
  const expectedPaths = (): string[] => [
    ...s3Photos, ...members(`s3://${bucket}/shards/shard.tar`, 3), ...members(`s3://${bucket}/shards/cut.tar`, 2), ...members(localShard, 3), ...images,
    `${http.url}/${basename(images[0]!)}`, `${http.url}/missing.jpg`, `s3://${bucket}/in/missing.jpg`,
  ].sort();
  const expectedErrors = (): Record<string, string> => ({
    [`s3://${bucket}/in/big.jpg`]: 'ERR_INPUT_TOO_LARGE', [`s3://${bucket}/in/missing.jpg`]: 'ERR_INPUT_MISSING',
    [`${http.url}/missing.jpg`]: 'ERR_INPUT_HTTP_STATUS', [`s3://${bucket}/shards/cut.tar#000000001.jpg`]: 'ERR_INPUT_TAR_TRUNCATED',
  });
  /** Killed (SIGKILL, by the CLI's test hook) as it starts the local shard's second member: the s3:// inputs before it are done or in flight. */
  const crashMidRun = { XCEPTION_TEST_CRASH_ON: `${basename(localShard)}#000000001.jpg` };

  test('classify: s3:// prefix, shards in S3 and on disk, a URL list -> --out s3://; killed, rerun from --work-dir; every input once, top-5 as from disk', async () => {
    const work = join(dir, 'work');
    const args = ['classify', ...inputs, '--out', `s3://${bucket}/out/tags.jsonl`, '--work-dir', work, ...FAST];
    const killed = await runCli(args, { ...env, ...crashMidRun });
    expect(killed.code, killed.stderr).toBeNull(); // died by SIGKILL
    const journal = join(work, bucket, 'out', 'tags.jsonl');
    const before = jsonl<Row>(readFileSync(journal, 'utf8')).length;
    expect(before).toBeGreaterThan(0);
    expect(await exists('out/tags.jsonl')).toBe(false); // nothing is uploaded before the run ends

    const rerun = await runCli(args, env);
    expect(rerun.code, rerun.stderr).toBe(3); // finished; some inputs have error rows
    const uploaded = await get('out/tags.jsonl');
    expect(uploaded.equals(readFileSync(journal))).toBe(true);
    const rows = jsonl<Row>(uploaded.toString('utf8'));
    expect(rows.map((r) => r.path).sort()).toEqual(expectedPaths()); // each once
    expect(Object.fromEntries(rows.filter((r) => r.error).map((r) => [r.path, r.error!.code]))).toEqual(expectedErrors());
    expect(rows.find((r) => r.path.endsWith('big.jpg'))!.error!.message).toContain('raise --max-input-bytes');
    const disk = new Map(rows.filter((r) => onDisk(r.path)).map((r) => [basename(r.path), r.top]));
    expect(disk.size).toBe(images.length);
    for (const row of rows.filter((r) => !r.error && !onDisk(r.path))) expect(row.top, row.path).toEqual(disk.get(sourceOf(row.path)));
  }, 300_000);

  test('embed -> --out s3://...npy: killed, rerun; the .npy, its paths and its error rows uploaded; the features of the same photos on disk', async () => {
    const work = join(dir, 'work-embed');
    const args = ['embed', ...inputs, '--out', `s3://${bucket}/out/features.npy`, '--work-dir', work, ...FAST];
    expect((await runCli(args, { ...env, ...crashMidRun })).code).toBeNull();
    expect(await exists('out/features.npy')).toBe(false);
    const rerun = await runCli(args, env);
    expect(rerun.code, rerun.stderr).toBe(3);
    writeFileSync(join(dir, 'features.npy'), await get('out/features.npy'));
    const npy = readNpy(join(dir, 'features.npy'));
    const paths = (await get('out/features.paths.txt')).toString('utf8').split('\n').filter(Boolean);
    const errors = jsonl<Row>((await get('out/features.npy.errors.jsonl')).toString('utf8'));
    expect(npy.shape).toEqual([paths.length, 2048]);
    expect([...paths, ...errors.map((r) => r.path)].sort()).toEqual(expectedPaths());
    expect(Object.fromEntries(errors.map((r) => [r.path, r.error!.code]))).toEqual(expectedErrors());
    const features = (i: number): number[] => Array.from(npy.data.subarray(i * 2048, (i + 1) * 2048));
    const disk = new Map(paths.flatMap((path, i) => (onDisk(path) ? [[basename(path), features(i)] as const] : [])));
    expect(disk.size).toBe(images.length);
    paths.forEach((path, i) => { if (!onDisk(path)) expect(features(i), path).toEqual(disk.get(sourceOf(path))); });
  }, 300_000);

  test('an object another model wrote is not replaced: exit 1, one line in flag words; the default --work-dir is $XCEPTION_HOME/work', async () => {
    const home = join(dir, 'home');
    const before = await get('out/tags.jsonl');
    const run = await runCli(['classify', `s3://${bucket}/in/`, '--out', `s3://${bucket}/out/tags.jsonl`, ...FAST, '--image-size', '75'], { ...env, XCEPTION_HOME: home });
    expect([run.code, run.stderr.trim()]).toEqual([1, `xception: s3://${bucket}/out/tags.jsonl was written by another model or settings (--image-size 75 instead of 71); rerun with the options it was written with, choose another --out, or delete the object first.`]);
    expect((await get('out/tags.jsonl')).equals(before)).toBe(true);
    expect(existsSync(join(home, 'work', bucket, 'out'))).toBe(true); // the run claimed its local output there
  }, 120_000);
});
