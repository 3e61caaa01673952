import { stat } from 'node:fs/promises';
import { loadImage, type ImageLoadOptions } from '@xception/vision-utils/node';
import type { EngineResult, InferenceEngine } from '@xception/engines';
import type { ResultRow } from '../output/results-file.js';
import type { ProgressCounts, ProgressReporter } from '../progress-reporter.js';
import type { InputEntry } from './list-inputs.js';
import type { PathSet } from './path-set.js';
import { inShard, type Shard } from './shard.js';

export interface DecodedInput {
  path: string;
  size: number;
  mtime: string;
  pixels: Uint8Array;
  decodeMs: number;
}

export interface PipelineOptions {
  listing: AsyncIterable<InputEntry>;
  done: PathSet;
  shard: Shard | null;
  engine: InferenceEngine;
  batchSize: number;
  imageSize: readonly [number, number];
  image?: ImageLoadOptions;
  /** Turns a finished batch into rows (classify: top-k; embed: features). */
  toRows(items: readonly DecodedInput[], result: EngineResult, inferMs: number): ResultRow[];
  /** Appends rows durably; called one batch at a time, in order. */
  write(rows: readonly ResultRow[]): Promise<void>;
  reporter: ProgressReporter;
  /** Called (and awaited) before an input is decoded: the in-flight journal. */
  onStart?(path: string): Promise<void>;
  /** Decodes at once (sharp runs them on its own thread pool). Default: 2 x engine parallelism + 2. */
  decodeConcurrency?: number;
}

export interface PipelineSummary extends ProgressCounts {
  seconds: number;
  imagesPerSecond: number;
  inferSeconds: number;
}

/**
 * listing → decode (concurrent) → batches → engine (as many batches in flight as it has
 * threads) → rows, durably appended. Decoding overlaps inference, and every queue is bounded:
 * a decode slot is held until its image's batch is written, so memory stays flat whatever the
 * size of the input.
 */
export async function runImagePipeline(o: PipelineOptions): Promise<PipelineSummary> {
  const started = performance.now();
  const counts: ProgressCounts = { done: 0, ok: 0, failed: 0, skipped: 0 };
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
  const write = (rows: ResultRow[]): Promise<void> => {
    writes = writes.then(() => o.write(rows)).then(() => {
      for (const r of rows) {
        counts.done++;
        if (r.error) counts.failed++;
        else counts.ok++;
      }
      o.reporter.update({ ...counts });
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
        const [h, w] = o.imageSize;
        const pixels = new Uint8Array(items.length * h * w * 3);
        items.forEach((item, i) => pixels.set(item.pixels, i * h * w * 3));
        const t0 = performance.now();
        const result = await o.engine.run({ pixels, count: items.length, height: h, width: w });
        const ms = performance.now() - t0;
        inferMs += ms;
        await write(o.toRows(items, result, ms / items.length));
      } finally {
        inFlight.release();
        slots.release(items.length);
      }
    })());
  };

  for await (const entry of o.listing) {
    if (fatal) break;
    if (!inShard(entry.path, o.shard)) continue;
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
      const decoded = await decode(entry.path, o);
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

async function decode(path: string, o: PipelineOptions): Promise<DecodedInput | (ResultRow & { error: object })> {
  const t0 = performance.now();
  try {
    const info = await stat(path);
    const image = await loadImage(path, { ...o.image, size: o.imageSize });
    return { path, size: info.size, mtime: info.mtime.toISOString(), pixels: image.pixels, decodeMs: performance.now() - t0 };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { path, error: { code: typeof e.code === 'string' ? e.code : 'ERR_IMAGE_UNREADABLE', message: e.message ?? String(error) } };
  }
}

/** A counting semaphore for bounding queues. */
export class Semaphore {
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  constructor(private free: number) {}

  async acquire(n = 1): Promise<void> {
    if (this.free >= n && this.waiters.length === 0) {
      this.free -= n;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push({ n, resolve }));
  }

  release(n = 1): void {
    this.free += n;
    while (this.waiters.length > 0 && this.free >= this.waiters[0]!.n) {
      const w = this.waiters.shift()!;
      this.free -= w.n;
      w.resolve();
    }
  }
}
