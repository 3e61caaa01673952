import { extname } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { BatchError, libraryWords, type BatchWords } from './batch-error.js';
import { IMAGE_EXTENSIONS, type InputEntry } from './list-inputs.js';
import { listS3Objects, openS3ObjectStream, parseS3Url, readS3Object, s3TooLarge, type S3Url } from './s3-objects.js';
import { isTarShard, tarShardInputs } from './tar-shard-input.js';

/** How s3:// inputs are read: one client for the run, the caps and timeouts URLs have too. */
export interface S3InputOptions {
  /** Called once, at the first s3:// input (so that a run without one never builds a client). */
  client: () => S3Client;
  /** The largest object (or tar member) read, in bytes. */
  maxBytes: number;
  /** One request, in milliseconds. */
  timeoutMs: number;
  words?: BatchWords;
}

/**
 * The inputs an `s3://` spec names. A key with an image's extension is one object, and a key
 * ending in .tar a webdataset shard (each image member an input, its row path
 * `s3://bucket/x.tar#member`); anything else is a prefix, read as a folder (`in` and `in/`
 * alike) and listed page by page, in key order, everything under it: each image object an
 * input and each .tar object a shard. An object's bytes are read only when the pipeline's
 * bounded decode step calls `read` (so reads run beside the engine, a few at a time).
 * A listing that fails (a missing bucket, access denied) is one error row for the spec.
 */
export async function* s3Inputs(spec: string, options: S3InputOptions): AsyncGenerator<InputEntry> {
  let url: S3Url;
  try {
    url = parseS3Url(spec);
  } catch (error) {
    yield { path: spec, ok: false, code: (error as BatchError).code, message: (error as BatchError).describe(options.words ?? libraryWords) };
    return;
  }
  const { bucket, prefix } = url;
  if (isTarShard(prefix) || IMAGE_EXTENSIONS.has(extname(prefix).toLowerCase())) {
    yield* objectInputs(bucket, prefix, undefined, options);
    return;
  }
  const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  try {
    for await (const object of listS3Objects(options.client(), `s3://${bucket}/${folder}`, requestOptions(options))) {
      if (isTarShard(object.key) || IMAGE_EXTENSIONS.has(extname(object.key).toLowerCase())) yield* objectInputs(bucket, object.key, object.size, options);
    }
  } catch (error) {
    if (!(error instanceof BatchError)) throw error;
    yield { path: spec, ok: false, code: error.code, message: error.message };
  }
}

/** One object: a lazy image read, or a shard streamed member by member. `size` from the listing refuses an oversize image without a request. */
async function* objectInputs(bucket: string, key: string, size: number | undefined, options: S3InputOptions): AsyncGenerator<InputEntry> {
  const path = `s3://${bucket}/${key}`;
  const request = requestOptions(options);
  if (isTarShard(key)) {
    yield* tarShardInputs(path, { open: () => openS3ObjectStream(options.client(), bucket, key, request), maxMemberBytes: options.maxBytes, words: request.words });
  } else if (size !== undefined && size > options.maxBytes) {
    const error = s3TooLarge(path, `${size} bytes`, request);
    yield { path, ok: false, code: error.code, message: error.message };
  } else {
    yield { path, ok: true, read: () => readS3Object(options.client(), bucket, key, request) };
  }
}

const requestOptions = (o: S3InputOptions) => ({ maxBytes: o.maxBytes, timeoutMs: o.timeoutMs, words: o.words ?? libraryWords });
