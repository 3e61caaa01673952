import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { BatchError, libraryWords, type BatchWords } from './batch-error.js';
import { inputTooLarge, readCapped } from './input-size-cap.js';

/**
 * Reading inputs from object storage (the S3 API: AWS, MinIO, Ceph's radosgw) with the AWS SDK v3:
 * a listing streamed page by page, and objects read with a size cap, a timeout and retries.
 * Every failure is a BatchError whose sentence names the s3:// URL.
 */

/** `s3://bucket/prefix`, split. `prefix` may be '' (the whole bucket). */
export interface S3Url {
  readonly bucket: string;
  readonly prefix: string;
}

/** One object of a listing. */
export interface S3Object {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  /** `s3://bucket/key`, the name a row of results gives it. */
  readonly url: string;
}

export interface S3RequestOptions {
  /** Each attempt is abandoned after this long. Default 30 000. */
  timeoutMs?: number;
  /** Attempts after the first on a 5xx, a timeout or a network error. Default 3. */
  retries?: number;
  /** The first wait before a retry; each next one doubles, with jitter. Default 200. */
  backoffMs?: number;
  /** How the errors name the options (the CLI: `--max-input-bytes`); the library's words by default. */
  words?: BatchWords;
}

export interface ReadS3Options extends S3RequestOptions {
  /** An object larger than this is refused (ERR_INPUT_TOO_LARGE), by its Content-Length or by counting. */
  maxBytes: number;
}

export interface ListS3Options extends S3RequestOptions {
  /** Keys per ListObjectsV2 page (servers cap it at 1000). */
  pageSize?: number;
}

const DEFAULTS = { timeoutMs: 30_000, retries: 3, backoffMs: 200 };

/** Splits `s3://bucket/prefix`; anything else is ERR_INPUT_URL_INVALID. */
export function parseS3Url(url: string): S3Url {
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  if (!match) {
    throw new BatchError('ERR_INPUT_URL_INVALID', (words) => `${words.option('input', JSON.stringify(url))} is not an S3 URL; write it as s3://bucket/prefix.`);
  }
  return { bucket: match[1]!, prefix: match[2] ?? '' };
}

/**
 * An S3 client from the standard configuration: AWS_ENDPOINT_URL, AWS_REGION (us-east-1 when
 * unset, which S3-compatible servers accept), the SDK's credentials chain, and path-style
 * addressing when an endpoint is set (self-hosted servers rarely have per-bucket host names).
 * The SDK's own retries are off (maxAttempts 1): listS3Objects and readS3Object retry themselves,
 * so that `retries` is the whole count.
 */
export function createS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const config: S3ClientConfig = { region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1', maxAttempts: 1 };
  if (env.AWS_ENDPOINT_URL) {
    config.endpoint = env.AWS_ENDPOINT_URL;
    config.forcePathStyle = true;
  }
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    config.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  }
  // Older S3 servers (radosgw 16.2) refuse the trailing checksums recent SDKs send by default.
  if (env.AWS_REQUEST_CHECKSUM_CALCULATION === 'WHEN_REQUIRED') config.requestChecksumCalculation = 'WHEN_REQUIRED';
  if (env.AWS_RESPONSE_CHECKSUM_VALIDATION === 'WHEN_REQUIRED') config.responseChecksumValidation = 'WHEN_REQUIRED';
  return new S3Client(config);
}

/**
 * Every object under `url`'s prefix, in key order, one ListObjectsV2 page in memory at a time:
 * a listing of millions streams. A missing bucket is ERR_INPUT_MISSING.
 */
export async function* listS3Objects(client: S3Client, url: string, options: ListS3Options = {}): AsyncGenerator<S3Object> {
  const { bucket, prefix } = parseS3Url(url);
  let token: string | undefined;
  do {
    const page = await withRetries(url, options, (abortSignal) =>
      client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: options.pageSize }), { abortSignal }),
    );
    for (const entry of page.Contents ?? []) {
      if (entry.Key === undefined) continue;
      yield { bucket, key: entry.Key, size: entry.Size ?? 0, url: `s3://${bucket}/${entry.Key}` };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * The bytes of one object, refused without being read whole when larger than `maxBytes`:
 * first by its Content-Length, then by counting (a server may not send one).
 */
export async function readS3Object(client: S3Client, bucket: string, key: string, options: ReadS3Options): Promise<Uint8Array> {
  const url = `s3://${bucket}/${key}`;
  return withRetries(url, options, async (abortSignal) => {
    const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal });
    const body = response.Body as AsyncIterable<Uint8Array> & { destroy?: () => void } | undefined;
    if (response.ContentLength !== undefined && response.ContentLength > options.maxBytes) {
      body?.destroy?.();
      throw s3TooLarge(url, `${response.ContentLength} bytes`, options);
    }
    return body ? readCapped(body, options.maxBytes, () => body.destroy?.(), () => s3TooLarge(url, `more than ${options.maxBytes} bytes`, options)) : new Uint8Array(0);
  });
}

/**
 * An object's body as a stream, for a .tar shard read member by member (never whole). The
 * timeout and retries cover the request up to the response's headers only: a shard of gigabytes
 * takes longer than any one timeout to stream.
 */
export async function openS3ObjectStream(client: S3Client, bucket: string, key: string, options: S3RequestOptions = {}): Promise<Readable> {
  return withRetries(`s3://${bucket}/${key}`, options, async (timeout) => {
    const request = new AbortController();
    const abort = (): void => request.abort(timeout.reason);
    timeout.addEventListener('abort', abort);
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: request.signal });
      return response.Body as Readable;
    } finally {
      timeout.removeEventListener('abort', abort);
    }
  });
}

/** The sentence is built in the caller's words at once: an error row keeps only `message`. */
export function s3TooLarge(url: string, size: string, options: { maxBytes: number; words?: BatchWords }): BatchError {
  return inputTooLarge(`${url} is ${size}`, options.maxBytes, options.words, ', or leave the object out');
}

/**
 * Runs one request with a timeout per attempt, retrying 5xx, timeouts and network errors with
 * exponential backoff and jitter; other failures (and our BatchErrors) are not retried.
 */
async function withRetries<T>(url: string, options: S3RequestOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { timeoutMs, retries, backoffMs } = { ...DEFAULTS, ...options };
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt(AbortSignal.timeout(timeoutMs));
    } catch (error) {
      if (error instanceof BatchError) throw error;
      const failure = classify(error);
      if (failure !== 'retry') throw asInputError(url, error, failure, tries + 1, options.words ?? libraryWords);
      if (tries >= retries) throw asInputError(url, error, 'unreadable', tries + 1, options.words ?? libraryWords);
      await sleep(backoffMs * 2 ** tries * (0.5 + Math.random()));
    }
  }
}

type Failure = 'missing' | 'denied' | 'retry' | 'unreadable';

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED']);

function classify(error: unknown): Failure {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.name === 'NotFound' || status === 404) return 'missing';
  if (e.name === 'AccessDenied' || status === 403) return 'denied';
  if ((status !== undefined && status >= 500) || e.name === 'TimeoutError' || e.name === 'AbortError' || e.name === 'RequestTimeout') return 'retry';
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return 'retry';
  return 'unreadable';
}

function asInputError(url: string, error: unknown, failure: Failure, attempts: number, words: BatchWords): BatchError {
  const reason = (error as Error).name === 'Error' ? (error as Error).message : (error as Error).name;
  switch (failure) {
    case 'missing':
      return new BatchError('ERR_INPUT_MISSING', () => `${url} does not exist (${reason}); check the bucket and key, or leave it out of the input.`, { cause: error });
    case 'denied':
      return new BatchError('ERR_INPUT_DENIED', () => `${url} cannot be read: access denied; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the bucket's policy.`, { cause: error });
    default:
      return new BatchError('ERR_INPUT_UNREADABLE', () => `${url} could not be read after ${attempts} attempt${attempts === 1 ? '' : 's'} (${reason}); check AWS_ENDPOINT_URL and the server, then run the ${words.command} again.`, { cause: error });
  }
}
