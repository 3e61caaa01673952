import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { s3Server, startStaticServer, type StaticServer } from '@xception/test-kit';
import { BatchError } from './batch-error.js';
import { createS3Client, listS3Objects, parseS3Url, readS3Object } from './s3-objects.js';

/**
 * Against a real S3 server (Ceph's radosgw on 127.0.0.1, scripts/services/s3.sh) where it can
 * start; the retry and counted-cap cases against a plain HTTP server on 127.0.0.1 that misbehaves
 * the way a server can (503s, a body with no Content-Length that never ends).
 */
const server = s3Server();
if ('skip' in server) console.warn(server.skip);

async function failure(promise: Promise<unknown>): Promise<BatchError> {
  const error = await promise.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(BatchError);
  return error as BatchError;
}

/** Counts the ListObjectsV2 requests a client sends. */
function countLists(client: S3Client): { count: number } {
  const seen = { count: 0 };
  client.middlewareStack.add((next, context) => async (args) => {
    if (context.commandName === 'ListObjectsV2Command') seen.count += 1;
    return next(args);
  }, { step: 'initialize', name: 'countLists' });
  return seen;
}

test('parseS3Url splits bucket and prefix, and refuses what is not s3://bucket', () => {
  expect(parseS3Url('s3://photos/in/2024/')).toEqual({ bucket: 'photos', prefix: 'in/2024/' });
  expect(parseS3Url('s3://photos')).toEqual({ bucket: 'photos', prefix: '' });
  for (const bad of ['s3://', 'http://photos/in', '/data/in']) {
    expect(() => parseS3Url(bad)).toThrow(expect.objectContaining({ code: 'ERR_INPUT_URL_INVALID', isOptionsError: true }));
  }
});

describe.skipIf('skip' in server)('on a real radosgw', () => {
  const env = 'env' in server ? server.env : {};
  const client = createS3Client(env);
  const bucket = `batch-${Date.now()}-${process.pid}`;
  // Unpadded numbers: key order (UTF-8 bytes) is not numeric order, so a sorted listing is S3's doing.
  const keys = Array.from({ length: 2500 }, (_, i) => `in/${i}.jpg`);
  const payload = randomBytes(100_000);

  beforeAll(async () => {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    const puts = [...keys.map((key) => ({ key, body: new Uint8Array(Buffer.from(key)) })), { key: 'other/0.jpg', body: new Uint8Array(1) },
      { key: 'payload.bin', body: new Uint8Array(payload) }, { key: 'empty.bin', body: new Uint8Array(0) }, { key: 'big.bin', body: new Uint8Array(1 << 20) }];
    for (let i = 0; i < puts.length; i += 32) {
      await Promise.all(puts.slice(i, i + 32).map(({ key, body }) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))));
    }
  }, 300_000);
  afterAll(() => client.destroy());

  test('listS3Objects streams 2,500 objects under a prefix, complete and in key order, in pages of 1,000', async () => {
    const listed: string[] = [];
    const sizes = new Set<number>();
    const counted = createS3Client(env);
    const seen = countLists(counted);
    for await (const object of listS3Objects(counted, `s3://${bucket}/in/`)) {
      listed.push(object.key);
      sizes.add(object.size - Buffer.byteLength(object.key));
      expect(object.url).toBe(`s3://${bucket}/${object.key}`);
    }
    expect(listed).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(sizes).toEqual(new Set([0]));
    expect(seen.count).toBe(3);
    counted.destroy();
  });

  test('a consumer that stops after 1,001 objects has made only 2 page requests', async () => {
    const counted = createS3Client(env);
    const seen = countLists(counted);
    let taken = 0;
    for await (const _ of listS3Objects(counted, `s3://${bucket}/in/`)) {
      if (++taken === 1001) break;
    }
    expect(seen.count).toBe(2);
    counted.destroy();
  });

  test('readS3Object gives back the bytes that were put, an empty object as zero bytes', async () => {
    expect(Buffer.from(await readS3Object(client, bucket, 'payload.bin', { maxBytes: 1 << 20 })).equals(payload)).toBe(true);
    expect((await readS3Object(client, bucket, 'empty.bin', { maxBytes: 10 })).byteLength).toBe(0);
  });

  test('a missing key or bucket is ERR_INPUT_MISSING, naming the s3:// URL', async () => {
    const missing = await failure(readS3Object(client, bucket, 'in/nope.jpg', { maxBytes: 1000 }));
    expect(missing.code).toBe('ERR_INPUT_MISSING');
    expect(missing.message).toContain(`s3://${bucket}/in/nope.jpg does not exist`);
    const noBucket = await failure(listS3Objects(client, `s3://${bucket}-absent/in/`).next());
    expect(noBucket.code).toBe('ERR_INPUT_MISSING');
    expect(noBucket.message).toContain(`s3://${bucket}-absent/in/`);
  });

  test('an object over maxBytes is ERR_INPUT_TOO_LARGE by its Content-Length', async () => {
    const tooLarge = await failure(readS3Object(client, bucket, 'big.bin', { maxBytes: 1000 }));
    expect(tooLarge.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(tooLarge.message).toBe(`s3://${bucket}/big.bin is ${1 << 20} bytes, over the cap of 1000 bytes; raise urls.maxBytes to read it, or leave the object out.`);
  });
});

describe('against a misbehaving HTTP server on 127.0.0.1', () => {
  let http: StaticServer;
  let flaky = 0;
  beforeAll(async () => {
    http = await startStaticServer({
      handler: (req, res) => {
        if (req.url?.startsWith('/b/endless')) { // no Content-Length, and a body that never ends
          res.writeHead(200, { 'content-type': 'application/octet-stream' });
          const chunk = Buffer.alloc(16 * 1024);
          const write = (): void => { while (res.write(chunk)); };
          res.on('drain', write);
          write();
          return;
        }
        if (req.url?.startsWith('/b/flaky') && ++flaky <= 2) { res.writeHead(503).end(); return; }
        if (req.url?.startsWith('/b/flaky')) { res.writeHead(200, { 'content-length': '5' }).end('hello'); return; }
        res.writeHead(503).end();
      },
    });
  });
  afterAll(() => http.close());
  const client = (): S3Client => createS3Client({ AWS_ENDPOINT_URL: http.url, AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AWS_REGION: 'us-east-1' });

  // The body is endless: that the read returns at all shows it stopped at the cap.
  test('a body with no Content-Length is counted and abandoned past maxBytes, not read whole', async () => {
    const error = await failure(readS3Object(client(), 'b', 'endless', { maxBytes: 100_000 }));
    expect(error.code).toBe('ERR_INPUT_TOO_LARGE');
    expect(error.message).toBe('s3://b/endless is more than 100000 bytes, over the cap of 100000 bytes; raise urls.maxBytes to read it, or leave the object out.');
    expect(http.hitCount('/b/endless')).toBe(1);
  });

  test('5xx answers are retried with backoff; the third attempt succeeds', async () => {
    const bytes = await readS3Object(client(), 'b', 'flaky', { maxBytes: 100, retries: 3, backoffMs: 10 });
    expect(Buffer.from(bytes).toString()).toBe('hello');
    expect(http.hitCount('/b/flaky')).toBe(3);
  });

  test('a server that keeps failing gives ERR_INPUT_UNREADABLE after retries + 1 attempts', async () => {
    const error = await failure(readS3Object(client(), 'b', 'down', { maxBytes: 100, retries: 2, backoffMs: 10 }));
    expect(error.code).toBe('ERR_INPUT_UNREADABLE');
    expect(error.message).toMatch(/^s3:\/\/b\/down could not be read after 3 attempts \(.+\); check AWS_ENDPOINT_URL and the server, then run the job again\.$/);
    expect(http.hitCount('/b/down')).toBe(3);
  });
});
