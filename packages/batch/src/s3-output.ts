import { createReadStream, existsSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BatchError } from './batch-error.js';
import { pathsFileOf } from './embedding-journal.js';
import { modelDifferences, modelId, type ModelRecord } from './model-record.js';
import type { OutputPlan } from './output-plan.js';
import { parseS3Url } from './s3-objects.js';

/**
 * The object metadata an upload carries, read back before the next upload to the same key: the
 * model's id, and its record (URI-encoded JSON: metadata is ASCII) to say what differs.
 */
const MODEL_META = 'xception-model';
const RECORD_META = 'xception-model-record';

/** One local file of a finished run and the object it becomes. */
export interface S3Upload {
  readonly file: string;
  readonly bucket: string;
  readonly key: string;
}

/**
 * An output in object storage (`--out s3://bucket/key.jsonl`): the run writes it locally, as
 * any output (journal, lock, model record, resume), at `<workDir>/<bucket>/<key>`, and uploads
 * the finished files. A rerun after a crash finds the work folder and resumes; an object that
 * another model (or another program) wrote is never replaced.
 */
export class S3Output {
  private constructor(
    /** The local output the run writes (shard suffix not yet added: planOutput adds it). */
    readonly localOut: string,
    private readonly bucket: string,
    private readonly bucketDir: string,
    private readonly client: () => S3Client,
  ) {}

  /** `out` is `s3://bucket/key`; the key keeps its extension, which says the format. */
  static forOut(out: string, workDir: string, client: () => S3Client): S3Output {
    const { bucket, prefix: key } = parseS3Url(out);
    if (key === '' || key.endsWith('/')) {
      throw new BatchError('ERR_OUTPUT_FORMAT', (w) => `${w.option('out', out)} names no object; give a key such as s3://${bucket}/results.jsonl.`);
    }
    const bucketDir = resolve(workDir, bucket);
    return new S3Output(join(bucketDir, ...key.split('/')), bucket, bucketDir, client);
  }

  /** The files a finished run uploads (the results, and an .npy's paths and error rows), each with its key. */
  uploadsOf(plan: OutputPlan): S3Upload[] {
    const files = plan.parquetOut ? [plan.parquetOut]
      : plan.npyOut ? [plan.npyOut, pathsFileOf(plan.npyOut), `${plan.npyOut}.errors.jsonl`].filter((f, i) => i < 2 || existsSync(f))
      : [plan.out];
    return files.map((file) => ({ file, bucket: this.bucket, key: relative(this.bucketDir, file).split(sep).join('/') }));
  }

  /**
   * Refuses (ERR_OUTPUT_OTHER_MODEL) when an object the run would replace was written by
   * another model or settings, or by something else than this package (no model metadata).
   * Called before the run writes anything, and again before the upload.
   */
  async checkModel(plan: OutputPlan, record: ModelRecord): Promise<void> {
    const id = modelId(record);
    await this.checkBucket();
    for (const { bucket, key } of this.uploadsOf(plan)) {
      const earlier = await this.head(bucket, key);
      if (earlier === null || earlier[MODEL_META] === id) continue;
      const url = `s3://${bucket}/${key}`;
      const differences = earlier[MODEL_META] === undefined ? null : modelDifferences(parseRecord(earlier[RECORD_META]), record);
      throw new BatchError('ERR_OUTPUT_OTHER_MODEL', (w) => earlier[MODEL_META] === undefined
        ? `${url} exists and was not written by ${w.writer('parquet')}, so it is not replaced; choose another ${w.option('out')}, or delete the object first.`
        : `${url} was written by another model or settings (${differences?.(w) ?? `model ${earlier[MODEL_META]} instead of ${id}`}); rerun with the options it was written with, choose another ${w.option('out')}, or delete the object first.`);
    }
  }

  /** Uploads the finished files (multipart for large ones), each with the model's id as metadata; returns their s3:// URLs. */
  async upload(plan: OutputPlan, record: ModelRecord): Promise<string[]> {
    await this.checkModel(plan, record);
    const urls: string[] = [];
    for (const { file, bucket, key } of this.uploadsOf(plan)) {
      const url = `s3://${bucket}/${key}`;
      const metadata = { [MODEL_META]: modelId(record), [RECORD_META]: encodeURIComponent(JSON.stringify(record)) };
      try {
        await new Upload({ client: this.client(), params: { Bucket: bucket, Key: key, Body: createReadStream(file), Metadata: metadata } }).done();
      } catch (error) {
        const why = (error as Error).name === 'Error' ? (error as Error).message : (error as Error).name;
        throw new BatchError('ERR_OUTPUT_UPLOAD', (w) => `Could not upload ${file} to ${url} (${why}); the results stay in ${file}, so rerun the same ${w.command} to upload them.`, { cause: error });
      }
      urls.push(url);
    }
    return urls;
  }

  /** A missing bucket is refused at the start, not after the run. */
  private async checkBucket(): Promise<void> {
    const missing = await this.ask(`s3://${this.bucket}`, () => this.client().send(new HeadBucketCommand({ Bucket: this.bucket })));
    if (missing === null) {
      throw new BatchError('ERR_OUTPUT_UNWRITABLE', (w) => `The bucket of ${w.option('out')}, s3://${this.bucket}, does not exist; create it or choose another ${w.option('out')}.`);
    }
  }

  /** The object's user metadata, or null when there is no object. */
  private async head(bucket: string, key: string): Promise<Record<string, string> | null> {
    const answer = await this.ask(`s3://${bucket}/${key}`, () => this.client().send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    return answer === null ? null : answer.Metadata ?? {};
  }

  /** A HEAD request: its answer, null for a 404, a BatchError for anything else. */
  private async ask<T>(url: string, send: () => Promise<T>): Promise<T | null> {
    try {
      return await send();
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.name === 'NoSuchBucket' || e.$metadata?.httpStatusCode === 404) return null;
      const why = e.name ?? String(error);
      throw new BatchError('ERR_OUTPUT_UPLOAD', (w) => `Could not check ${url} before writing it (${why}); check AWS_ENDPOINT_URL and the credentials, then rerun the same ${w.command}.`, { cause: error });
    }
  }
}

/** The record an earlier upload left in its metadata; a damaged one compares as unknown. */
function parseRecord(text: string | undefined): ModelRecord {
  try {
    return JSON.parse(decodeURIComponent(text ?? '')) as ModelRecord;
  } catch {
    return { kind: 'classify', weights: '?', weightsSha256: '?', top: true, inputSize: 0, resize: '?', topK: null };
  }
}
