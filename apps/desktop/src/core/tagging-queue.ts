import type { TaggingProgress } from '../shared/api.js';
import { classifyMany, type Classification, type Classifier } from './classifier.js';
import { ClassifierError, messageOf } from './errors.js';

export type TaggingJobKind = 'classify' | 'rewrite';

export interface TaggingJob {
  photo: string;
  /** 'classify' runs the model; 'rewrite' only re-applies the rules to stored predictions. */
  kind: TaggingJobKind;
}

export interface TaggingQueueOptions {
  /** Created on the first classify job, so that opening the app loads no model. */
  classifier: () => Promise<Classifier>;
  topK: () => number;
  /** Stores one photo's result (sidecar + index). Runs before the next photo starts. */
  onClassified(photo: string, result: Classification, modelId: string): Promise<void>;
  onRewrite(photo: string): Promise<void>;
  /** A photo failed; the queue goes on with the next. */
  onFailed(photo: string, error: Error): Promise<void> | void;
  onProgress(progress: TaggingProgress): void;
  /**
   * Persists the index: when the queue stops, and while it runs after `checkpointEvery` photos
   * (default 25) once `checkpointIntervalMs` (default 10 s) have passed since the last one. A
   * save writes the whole index and feature rows, so saving by count alone would cost a large
   * library more with every photo; the sidecars are written photo by photo regardless, and an
   * index lost in a crash is rebuilt from them.
   */
  onCheckpoint?(): Promise<void>;
  checkpointEvery?: number;
  checkpointIntervalMs?: number;
  /** The clock for checkpointIntervalMs (tests). */
  now?(): number;
  /**
   * Photos per forward pass (default 8). One batch is in the engine at a time: the next starts
   * when its inference ends, and runs while the finished one's sidecars are written.
   */
  batchSize?: number;
  /** Maps a model-loading failure (offline, bad weights file) to one sentence for the user. */
  describeLoadError?(error: unknown): string;
}

export interface TaggingQueue {
  /** Adds jobs (a photo already queued is not queued twice) and starts if idle. */
  enqueue(jobs: readonly TaggingJob[]): void;
  /** No new batch starts; the batch in flight finishes and is saved. */
  pause(): void;
  resume(): void;
  /** Drops the pending jobs; the batch in flight finishes and is saved. */
  cancel(): void;
  progress(): TaggingProgress;
  /** Resolves when the queue has nothing left to do (or is paused with work left). */
  whenIdle(): Promise<void>;
  /** Forgets the loaded classifier (weights or engine changed); the next job loads anew. */
  resetClassifier(): Promise<void>;
  /**
   * Someone waits for this photo (the grid asked for its thumbnail, which its tagging decode
   * makes): a queued photo moves to the front, and its decode is asked for the thumbnail (the
   * classifier's `thumbnails`; photos nobody asked for get none). Resolves once the photo is
   * stored or failed, or when the queue pauses, stops or drops it; null when it is neither queued
   * nor in flight.
   */
  prioritize(photo: string): Promise<void> | null;
  /**
   * The photos the grid shows now (replacing the last call's): their decodes also make the
   * grid's thumbnail, as prioritize()'s do; they keep their place in the queue.
   */
  showThumbnails(photos: readonly string[]): void;
}

interface Batch { jobs: TaggingJob[]; modelId: string; results: Promise<Array<Classification | Error>> }

/**
 * Runs tagging jobs in batches off the UI (the classifier itself runs in a utility process).
 * One batch is in inference at a time, and the classifier decodes the next one meanwhile; the
 * next batch starts as soon as the previous one's inference ends, while its photos are stored.
 * Every finished photo is stored before the queue goes idle, pauses or stops, so pausing,
 * cancelling or quitting never loses finished work, and waits for one batch at most.
 */
export function createTaggingQueue(options: TaggingQueueOptions): TaggingQueue {
  return new BatchTaggingQueue(options);
}

class BatchTaggingQueue implements TaggingQueue {
  private readonly pending: TaggingJob[] = [];
  private readonly queued = new Set<string>();
  /** Photos taken for inference and not stored yet, with the classifier that runs them. */
  private readonly taken = new Map<string, Classifier>();
  /** prioritize()'s waiters, by photo: these photos' decodes also make the grid's thumbnail. */
  private readonly waiters = new Map<string, Array<() => void>>();
  /** showThumbnails()'s photos: their decodes make the grid's thumbnail too. */
  private shown: ReadonlySet<string> = new Set();
  private state: TaggingProgress = { state: 'idle', done: 0, failed: 0, total: 0 };
  private running: Promise<void> | null = null;
  private paused = false;
  private wake: (() => void) | null = null;
  private classifier: Classifier | null = null;
  private waitingOnPause = false;
  private idleWaiters: (() => void)[] = [];
  private sinceCheckpoint = 0;
  private lastCheckpoint = 0;
  private readonly every: number;
  private readonly interval: number;
  private readonly now: () => number;
  private readonly batchSize: number;

  constructor(private readonly options: TaggingQueueOptions) {
    this.every = options.checkpointEvery ?? 25;
    this.interval = options.checkpointIntervalMs ?? 10_000;
    this.now = options.now ?? (() => performance.now());
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? 8));
  }

  enqueue(jobs: readonly TaggingJob[]): void {
    if (!this.running) this.emit({ state: 'running', done: 0, failed: 0, total: 0, message: undefined });
    let added = 0;
    for (const job of jobs) {
      // In inference now with the current model: its result is on its way (a second run would count it twice).
      if (job.kind === 'classify' && this.taken.has(job.photo) && this.taken.get(job.photo) === this.classifier) continue;
      if (this.queued.has(job.photo)) {
        // A classify request upgrades a queued rewrite of the same photo.
        if (job.kind === 'classify') this.pending.find((p) => p.photo === job.photo)!.kind = 'classify';
        continue;
      }
      this.queued.add(job.photo);
      this.pending.push({ ...job });
      added++;
    }
    this.emit({ total: this.state.total + added });
    if (!this.paused) this.start();
  }

  pause(): void {
    this.paused = true;
    this.settleAll();
    if (!this.running) this.emit({ state: 'paused' });
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
    if (this.pending.length > 0) this.start();
    else if (this.state.state === 'paused') this.emit({ state: 'done' });
  }

  cancel(): void {
    const dropped = this.pending.length;
    this.dropPending();
    this.emit({ state: 'cancelled', total: this.state.total - dropped, current: undefined });
    this.paused = false;
    this.wake?.();
  }

  progress(): TaggingProgress {
    return { ...this.state };
  }

  async resetClassifier(): Promise<void> {
    const old = this.classifier;
    this.classifier = null;
    await old?.dispose();
  }

  prioritize(photo: string): Promise<void> | null {
    const at = this.pending.findIndex((j) => j.photo === photo && j.kind === 'classify');
    if (at < 0 && !this.taken.has(photo)) return null;
    if (this.paused && at >= 0) return null;
    if (at > 0) this.pending.unshift(...this.pending.splice(at, 1));
    return new Promise<void>((resolve) => this.waiters.set(photo, [...(this.waiters.get(photo) ?? []), resolve]));
  }

  showThumbnails(photos: readonly string[]): void {
    this.shown = new Set(photos);
  }

  private settle(photo: string): void {
    const waiting = this.waiters.get(photo);
    this.waiters.delete(photo);
    for (const resolve of waiting ?? []) resolve();
  }

  private settleAll(): void {
    for (const photo of [...this.waiters.keys()]) this.settle(photo);
  }

  whenIdle(): Promise<void> {
    return this.isIdle() ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.running || this.waitingOnPause;
  }

  private flushIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private emit(patch: Partial<TaggingProgress>): void {
    this.state = { ...this.state, ...patch };
    if (patch.current === undefined && 'current' in patch) delete this.state.current;
    this.options.onProgress({ ...this.state });
  }

  private dropPending(): void {
    this.pending.length = 0;
    this.queued.clear();
    this.settleAll();
  }

  private start(): void {
    if (this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      // Jobs added while the loop was finishing.
      if (this.pending.length > 0 && !this.paused) this.start();
      this.flushIdle();
    });
  }

  private async loadClassifier(): Promise<Classifier | null> {
    if (this.classifier) return this.classifier;
    this.emit({ state: 'loading-model' });
    try {
      const created = await this.options.classifier();
      await created.load((p) => this.emit({ download: { loaded: p.loaded, total: p.total } }));
      this.classifier = created;
      const { download: _, ...rest } = this.state;
      this.state = rest;
      return created;
    } catch (error) {
      this.emit({ state: 'failed', message: this.options.describeLoadError?.(error) ?? messageOf(error), current: undefined });
      return null;
    }
  }

  private takeBatch(model: Classifier): Batch {
    // A classifier without classifyBatch (the renderer's webgl) runs photo by photo: batches of
    // one keep pause and cancel waiting for one photo, not eight.
    const size = model.classifyBatch ? this.batchSize : 1;
    const jobs: TaggingJob[] = [];
    while (jobs.length < size && this.pending[0]?.kind === 'classify') {
      const job = this.pending.shift()!;
      this.queued.delete(job.photo);
      jobs.push(job);
    }
    const next = this.pending.slice(0, size).filter((j) => j.kind === 'classify').map((j) => j.photo);
    this.emit({ state: 'running', current: jobs[0]!.photo });
    const photos = jobs.map((j) => j.photo);
    for (const photo of photos) this.taken.set(photo, model);
    // Thumbnails only for the photos the grid shows or waits for: a photo scrolled to later gets
    // its thumbnail decoded then, and most photos of a large library are never looked at.
    const thumbnails = [...photos, ...next].filter((photo) => this.waiters.has(photo) || this.shown.has(photo));
    // A failure of the whole call (the utility process died) fails each photo of the batch.
    const results = classifyMany(model, photos, this.options.topK(), next, thumbnails).catch((error: unknown) => photos.map(() => (error instanceof Error ? error : new Error(String(error)))));
    return { jobs, modelId: model.modelId, results };
  }

  private async store(job: TaggingJob, work: () => Promise<void>): Promise<void> {
    try {
      await work();
      this.emit({ done: this.state.done + 1 });
    } catch (error) {
      await this.options.onFailed(job.photo, error instanceof Error ? error : new Error(String(error)));
      this.emit({ failed: this.state.failed + 1 });
    } finally {
      this.taken.delete(job.photo);
      this.settle(job.photo);
    }
  }

  private async storeBatch(finished: Batch, results: ReadonlyArray<Classification | Error>): Promise<void> {
    for (const [i, job] of finished.jobs.entries()) {
      const result = results[i]!;
      await this.store(job, async () => {
        if (result instanceof Error) throw new ClassifierError(job.photo, result);
        await this.options.onClassified(job.photo, result, finished.modelId);
      });
    }
    await this.checkpoint(finished.jobs.length);
  }

  private async checkpoint(photos: number): Promise<void> {
    this.sinceCheckpoint += photos;
    if (this.sinceCheckpoint < this.every || this.now() - this.lastCheckpoint < this.interval) return;
    this.sinceCheckpoint = 0;
    this.lastCheckpoint = this.now();
    await this.options.onCheckpoint?.();
  }

  /** Waits, idle as far as whenIdle() is concerned, until resume() or cancel(). */
  private async waitWhilePaused(): Promise<void> {
    this.emit({ state: 'paused', current: undefined });
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.waitingOnPause = true;
      this.flushIdle();
    });
    this.wake = null;
    this.waitingOnPause = false;
  }

  /** A rewrite: the rules again over stored predictions, no model. */
  private async rewriteNext(): Promise<void> {
    const job = this.pending.shift()!;
    this.queued.delete(job.photo);
    this.emit({ state: 'running', current: job.photo });
    await this.store(job, () => this.options.onRewrite(job.photo));
    await this.checkpoint(1);
  }

  private async loop(): Promise<void> {
    this.sinceCheckpoint = 0;
    // A run's first save waits its interval too, so that a short run saves once, when it stops.
    this.lastCheckpoint = this.now();
    let inFlight: Batch | null = null;
    for (;;) {
      // 1. The batch in flight's inference ends...
      const finished = inFlight;
      const results = finished ? await finished.results : [];
      inFlight = null;
      // 2. ...and the next one starts at once (unless paused or cancelled meanwhile), so that it
      // runs while the finished one is stored.
      if (!this.paused && this.pending[0]?.kind === 'classify') {
        const model = await this.loadClassifier();
        if (model) inFlight = this.takeBatch(model);
        else this.dropPending();
      }
      if (finished) await this.storeBatch(finished, results);
      else if (inFlight) continue;
      else if (this.pending.length === 0) break;
      else if (this.paused) await this.waitWhilePaused();
      else await this.rewriteNext();
    }
    this.settleAll();
    await this.options.onCheckpoint?.();
    if (this.state.state !== 'failed' && this.state.state !== 'cancelled') this.emit({ state: 'done', current: undefined });
  }
}
