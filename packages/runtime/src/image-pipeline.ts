import { stat } from 'node:fs/promises';
import { loadImage, loadImageWithThumbnail, type ImageLoadOptions, type ThumbnailRequest } from '@xception/vision-utils/node';
import type { EngineResult, InferenceEngine } from '@xception/engines';
import { Semaphore } from './semaphore.js';

/**
 * One thing to run: a local file by its path, or bytes from elsewhere (a tar member) that `path`
 * only names, or a reader of them (a URL), called in the bounded decode step so that downloads
 * overlap inference and are never more than the decode slots; or a reason it cannot be run, so
 * that every input gets a row.
 */
export type PipelineInput =
  | { readonly path: string; readonly ok: true; readonly bytes?: Uint8Array; read?(): Promise<Uint8Array> }
  | { readonly path: string; readonly ok: false; readonly code: string; readonly message: string };

export interface DecodedInput {
  path: string;
  /** The input's size in bytes. */
  size: number;
  /** A file's modification time (ISO 8601); absent for bytes. */
  mtime?: string;
  pixels: Uint8Array;
  decodeMs: number;
  /** The grid's JPEG thumbnail from the same decode, when decodeInput was asked for one. */
  thumbnail?: Uint8Array;
}

/** An input that could not be run, as a row. */
export interface FailedInput { path: string; error: { code: string; message: string } }

export interface PipelineCounts { done: number; ok: number; failed: number; skipped: number }

export interface PipelineOptions<Row> {
  inputs: AsyncIterable<PipelineInput>;
  /** Inputs already done (skipped and counted); every input run is added, so one listed twice runs once. */
  done: { has(path: string): boolean; add(path: string): void };
  /** Inputs this run takes (a shard); others are passed over uncounted. Default: all. */
  accept?(path: string): boolean;
  engine: InferenceEngine;
  batchSize: number;
  imageSize: readonly [number, number];
  image?: ImageLoadOptions;
  /** Turns a finished batch into rows (classify: top-k; embed: features). */
  toRows(items: readonly DecodedInput[], result: EngineResult, inferMs: number): Row[];
  /** Appends rows durably; called one batch at a time, in order. */
  write(rows: ReadonlyArray<Row | FailedInput>): Promise<void>;
  /** The counts after every write (a progress line). */
  onCounts?(counts: PipelineCounts): void;
  /** Called (and awaited) before an input is decoded: the in-flight journal. */
  onStart?(path: string): Promise<void>;
  /** Decodes at once (sharp runs them on its own thread pool). Default: 2 x engine parallelism + 2. */
  decodeConcurrency?: number;
}

export interface PipelineSummary extends PipelineCounts {
  seconds: number;
  imagesPerSecond: number;
  inferSeconds: number;
}

/**
 * inputs → decode (concurrent) → batches → engine (as many batches in flight as it has
 * threads) → rows, durably appended. Decoding overlaps inference, and every queue is bounded:
 * a decode slot is held until its image's batch is written, so memory stays flat whatever the
 * size of the input.
 */
export async function runImagePipeline<Row>(o: PipelineOptions<Row>): Promise<PipelineSummary> {
  const started = performance.now();
  const counts: PipelineCounts = { done: 0, ok: 0, failed: 0, skipped: 0 };
  let inferMs = 0;
  const slots = new Semaphore(o.batchSize * (o.engine.parallelism + 1) + (o.decodeConcurrency ?? 2 * o.engine.parallelism + 2));
  const inFlight = new Semaphore(o.engine.parallelism);
  let writes: Promise<void> = Promise.resolve();
  let fatal: Error | null = null;
  const decoding = new Set<Promise<void>>();
  const batches = new Set<Promise<void>>();
  const track = (set: Set<Promise<void>>, p: Promise<void>): void => {
    const q = p.catch((error: Error) => { fatal ??= error; }).finally(() => set.delete(q));
    set.add(q);
  };
  const write = (rows: ReadonlyArray<Row | FailedInput>): Promise<void> => {
    writes = writes.then(() => o.write(rows)).then(() => {
      for (const r of rows) {
        counts.done++;
        if (isFailed(r)) counts.failed++;
        else counts.ok++;
      }
      o.onCounts?.({ ...counts });
    });
    return writes;
  };

  let batch: DecodedInput[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const items = batch;
    batch = [];
    track(batches, (async () => {
      await inFlight.acquire();
      try {
        const t0 = performance.now();
        const result = await runBatch(o.engine, items, o.imageSize);
        const ms = performance.now() - t0;
        inferMs += ms;
        await write(o.toRows(items, result, ms / items.length));
      } finally {
        inFlight.release();
        slots.release(items.length);
      }
    })());
  };

  for await (const entry of o.inputs) {
    if (fatal) break;
    if (o.accept && !o.accept(entry.path)) continue;
    if (o.done.has(entry.path)) {
      counts.skipped++;
      continue;
    }
    o.done.add(entry.path); // the same file listed twice (two globs, a folder and a file) runs once
    if (!entry.ok) {
      track(decoding, write([{ path: entry.path, error: { code: entry.code, message: entry.message } }]));
      continue;
    }
    await slots.acquire(1);
    await o.onStart?.(entry.path);
    track(decoding, (async () => {
      const decoded = await decodeInput(entry, o.imageSize, o.image);
      if ('error' in decoded) {
        slots.release(1);
        await write([decoded]);
        return;
      }
      batch.push(decoded);
      if (batch.length >= o.batchSize) flush();
    })());
  }
  // The last, partial batch runs as soon as the last decode ends, beside the batches in flight.
  while (decoding.size > 0) await Promise.all([...decoding]);
  flush();
  while (batches.size > 0) await Promise.all([...batches]);
  await writes;
  if (fatal) throw fatal;
  const seconds = (performance.now() - started) / 1000;
  return { ...counts, seconds, imagesPerSecond: counts.done / Math.max(seconds, 1e-9), inferSeconds: inferMs / 1000 };
}

const isFailed = (row: unknown): row is FailedInput => typeof row === 'object' && row !== null && 'error' in row && (row as FailedInput).error !== undefined;

/**
 * Packs decoded images (uint8 RGB at `imageSize`) NHWC into one batch and runs it: the step
 * between decoding and rows, for a caller that schedules its own batches (the desktop's
 * tagging queue, which decodes the next batch while this one runs).
 */
export async function runBatch(engine: InferenceEngine, items: ReadonlyArray<{ readonly pixels: Uint8Array }>, [h, w]: readonly [number, number]): Promise<EngineResult> {
  const pixels = new Uint8Array(items.length * h * w * 3);
  items.forEach((item, i) => pixels.set(item.pixels, i * h * w * 3));
  return engine.run({ pixels, count: items.length, height: h, width: w });
}

/**
 * Reads (`read`, when the input has one) and decodes one input at `size` (sharp; a file is opened
 * read-only); never rejects: a failure is its row, with the error's `code` when it has one. With
 * `thumbnail`, a JPEG thumbnail comes from the same decode (loadImageWithThumbnail).
 */
export async function decodeInput(input: PipelineInput & { ok: true }, size: readonly [number, number], image?: ImageLoadOptions, thumbnail?: ThumbnailRequest): Promise<DecodedInput | FailedInput> {
  const t0 = performance.now();
  try {
    const bytes = input.bytes ?? (input.read ? await input.read() : undefined);
    const file = bytes ? null : await stat(input.path);
    const source = bytes ?? input.path;
    const decoded: { pixels: Uint8Array; thumbnail?: Uint8Array } = thumbnail ? await loadImageWithThumbnail(source, { ...image, size }, thumbnail) : await loadImage(source, { ...image, size });
    return {
      path: input.path, size: bytes?.length ?? file!.size, ...(file ? { mtime: file.mtime.toISOString() } : {}), pixels: decoded.pixels, decodeMs: performance.now() - t0,
      ...(decoded.thumbnail ? { thumbnail: decoded.thumbnail } : {}),
    };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { path: input.path, error: { code: typeof e.code === 'string' ? e.code : 'ERR_IMAGE_UNREADABLE', message: e.message ?? String(error) } };
  }
}
