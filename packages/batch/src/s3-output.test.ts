import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { s3Server } from '@xception/test-kit';
import { BatchError } from './batch-error.js';
import type { ModelRecord } from './model-record.js';
import { planOutput } from './output-plan.js';
import { createS3Client } from './s3-objects.js';
import { S3Output } from './s3-output.js';

/** S3Output against a real S3 server (Ceph's radosgw, scripts/services/s3.sh) where it can start. */
const server = s3Server();
if ('skip' in server) console.warn(server.skip);

const record: ModelRecord = { kind: 'classify', weights: 'none', weightsSha256: 'random', top: true, inputSize: 71, resize: 'squash', topK: 5 };

async function failure(promise: Promise<unknown>): Promise<BatchError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BatchError);
  return error as BatchError;
}

test('the local output is <workDir>/<bucket>/<key>; a shard uploads to its own key; .parquet uploads the file, not its journal; .npy its paths too; an s3:// --out with no key is refused', () => {
  const remote = S3Output.forOut('s3://results/runs/tags.jsonl', '/work', () => { throw new Error('no request expected'); });
  expect(remote.localOut).toBe('/work/results/runs/tags.jsonl');
  const plan = planOutput(remote.localOut, 'classify', { index: 1, count: 4, source: 'test' });
  expect(remote.uploadsOf(plan)).toEqual([{ file: '/work/results/runs/tags.shard-1-of-4.jsonl', bucket: 'results', key: 'runs/tags.shard-1-of-4.jsonl' }]);
  const parquet = S3Output.forOut('s3://results/tags.parquet', '/work', () => { throw new Error(); });
  expect(parquet.uploadsOf(planOutput(parquet.localOut, 'classify', null)).map((u) => u.key)).toEqual(['tags.parquet']); // not its journal
  const npy = S3Output.forOut('s3://results/f.npy', '/work', () => { throw new Error(); });
  expect(npy.uploadsOf(planOutput(npy.localOut, 'embed', null)).map((u) => u.key)).toEqual(['f.npy', 'f.paths.txt']); // errors file only when there is one
  expect(() => S3Output.forOut('s3://results/', '/work', () => { throw new Error(); })).toThrow(expect.objectContaining({ code: 'ERR_OUTPUT_FORMAT' }));
});

describe.skipIf('skip' in server)('on a real radosgw', () => {
  const env = 'env' in server ? server.env : {};
  const client = createS3Client(env);
  const bucket = `output-${Date.now()}-${process.pid}`;
  const work = mkdtempSync(join(tmpdir(), 'xception-s3-output-'));
  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'theirs.csv', Body: 'a,b\n' }));
  }, 300_000);
  afterAll(() => {
    client.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  test('a 12 MiB results file is uploaded in parts (multipart ETag), byte for byte, with the model in its metadata', async () => {
    const remote = S3Output.forOut(`s3://${bucket}/big/tags.jsonl`, work, () => client);
    const plan = planOutput(remote.localOut, 'classify', null);
    mkdirSync(dirname(plan.out), { recursive: true });
    const bytes = randomBytes(12 * 2 ** 20);
    writeFileSync(plan.out, bytes);
    expect(await remote.upload(plan, record)).toEqual([`s3://${bucket}/big/tags.jsonl`]);
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/tags.jsonl' }));
    expect(head.ETag).toMatch(/-3"$/); // S3's ETag of a multipart upload: md5 of the parts' md5s, "-" and the part count
    const body = Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'big/tags.jsonl' }))).Body!.transformToByteArray());
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(JSON.parse(decodeURIComponent(head.Metadata!['xception-model-record']!))).toEqual(record);
    await remote.checkModel(plan, record); // the same model may replace it
  }, 120_000);

  test("an object another program wrote is not replaced: ERR_OUTPUT_OTHER_MODEL; a missing bucket: ERR_OUTPUT_UNWRITABLE", async () => {
    const theirs = S3Output.forOut(`s3://${bucket}/theirs.csv`, work, () => client);
    const error = await failure(theirs.checkModel(planOutput(theirs.localOut, 'classify', null), record));
    expect(error.code).toBe('ERR_OUTPUT_OTHER_MODEL');
    expect(error.message).toContain(`s3://${bucket}/theirs.csv exists and was not written by`);
    const nowhere = S3Output.forOut(`s3://${bucket}-missing/tags.jsonl`, work, () => client);
    const missing = await failure(nowhere.checkModel(planOutput(nowhere.localOut, 'classify', null), record));
    expect(missing.code).toBe('ERR_OUTPUT_UNWRITABLE');
  }, 60_000);
});
