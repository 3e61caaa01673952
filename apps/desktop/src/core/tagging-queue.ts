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
  /** Called every `checkpointEvery` photos and when the queue stops, to persist the index. */
  onCheckpoint?(): Promise<void>;
  checkpointEvery?: number;
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
}

/**
 * Runs tagging jobs in batches off the UI (the classifier itself runs in a utility process).
 * One batch is in inference at a time, and the classifier decodes the next one meanwhile; the
 * next batch starts as soon as the previous one's inference ends, while its photos are stored.
 * Every finished photo is stored before the queue goes idle, pauses or stops, so pausing,
 * cancelling or quitting never loses finished work, and waits for one batch at most.
 */
export function createTaggingQueue(options: TaggingQueueOptions): TaggingQueue {
  const pending: TaggingJob[] = [];
  const queued = new Set<string>();
  let state: TaggingProgress = { state: 'idle', done: 0, failed: 0, total: 0 };
  let running: Promise<void> | null = null;
  let paused = false;
  let wake: (() => void) | null = null;
  let classifier: Classifier | null = null;
  let waitingOnPause = false;
  let idleWaiters: (() => void)[] = [];
  const isIdle = (): boolean => !running || waitingOnPause;
  const flushIdle = (): void => {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };
  const every = options.checkpointEvery ?? 25;
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? 8));

  const emit = (patch: Partial<TaggingProgress>): void => {
    state = { ...state, ...patch };
    if (patch.current === undefined && 'current' in patch) delete state.current;
    options.onProgress({ ...state });
  };

  const loadClassifier = async (): Promise<Classifier | null> => {
    if (classifier) return classifier;
    emit({ state: 'loading-model' });
    try {
      const created = await options.classifier();
      await created.load((p) => emit({ download: { loaded: p.loaded, total: p.total } }));
      classifier = created;
      const { download: _, ...rest } = state;
      state = rest;
      return created;
    } catch (error) {
      emit({ state: 'failed', message: options.describeLoadError?.(error) ?? messageOf(error), current: undefined });
      return null;
    }
  };

  interface Batch { jobs: TaggingJob[]; modelId: string; results: Promise<Array<Classification | Error>> }

  const takeBatch = (model: Classifier): Batch => {
    // A classifier without classifyBatch (the renderer's webgl) runs photo by photo: batches of
    // one keep pause and cancel waiting for one photo, not eight.
    const size = model.classifyBatch ? batchSize : 1;
    const jobs: TaggingJob[] = [];
    while (jobs.length < size && pending[0]?.kind === 'classify') {
      const job = pending.shift()!;
      queued.delete(job.photo);
      jobs.push(job);
    }
    const next = pending.slice(0, size).filter((j) => j.kind === 'classify').map((j) => j.photo);
    emit({ state: 'running', current: jobs[0]!.photo });
    const photos = jobs.map((j) => j.photo);
    // A failure of the whole call (the utility process died) fails each photo of the batch.
    const results = classifyMany(model, photos, options.topK(), next).catch((error: unknown) => photos.map(() => (error instanceof Error ? error : new Error(String(error)))));
    return { jobs, modelId: model.modelId, results };
  };

  const store = async (job: TaggingJob, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
      emit({ done: state.done + 1 });
    } catch (error) {
      await options.onFailed(job.photo, error instanceof Error ? error : new Error(String(error)));
      emit({ failed: state.failed + 1 });
    }
  };

  const loop = async (): Promise<void> => {
    let sinceCheckpoint = 0;
    const checkpoint = async (photos: number): Promise<void> => {
      sinceCheckpoint += photos;
      if (sinceCheckpoint < every) return;
      sinceCheckpoint = 0;
      await options.onCheckpoint?.();
    };
    let inFlight: Batch | null = null;
    for (;;) {
      // 1. The batch in flight's inference ends...
      const finished = inFlight ? { ...inFlight, results: await inFlight.results } : null;
      inFlight = null;
      // 2. ...and the next one starts at once (unless paused or cancelled meanwhile), so that it
      // runs while the finished one is stored.
      if (!paused && pending[0]?.kind === 'classify') {
        const model = await loadClassifier();
        if (model) inFlight = takeBatch(model);
        else {
          pending.length = 0;
          queued.clear();
        }
      }
      if (finished) {
        for (const [i, job] of finished.jobs.entries()) {
          const result = finished.results[i]!;
          await store(job, async () => {
            if (result instanceof Error) throw new ClassifierError(job.photo, result);
            await options.onClassified(job.photo, result, finished.modelId);
          });
        }
        await checkpoint(finished.jobs.length);
        continue;
      }
      if (inFlight) continue;
      if (pending.length === 0) break;
      if (paused) {
        emit({ state: 'paused', current: undefined });
        await new Promise<void>((resolve) => {
          wake = resolve;
          waitingOnPause = true;
          flushIdle();
        });
        wake = null;
        waitingOnPause = false;
        continue;
      }
      // A rewrite: the rules again over stored predictions, no model.
      const job = pending.shift()!;
      queued.delete(job.photo);
      emit({ state: 'running', current: job.photo });
      await store(job, () => options.onRewrite(job.photo));
      await checkpoint(1);
    }
    await options.onCheckpoint?.();
    if (state.state !== 'failed' && state.state !== 'cancelled') emit({ state: 'done', current: undefined });
  };

  const start = (): void => {
    if (running) return;
    running = loop().finally(() => {
      running = null;
      // Jobs added while the loop was finishing.
      if (pending.length > 0 && !paused) start();
      flushIdle();
    });
  };

  return {
    enqueue(jobs) {
      if (!running) emit({ state: 'running', done: 0, failed: 0, total: 0, message: undefined });
      let added = 0;
      for (const job of jobs) {
        if (queued.has(job.photo)) {
          // A classify request upgrades a queued rewrite of the same photo.
          if (job.kind === 'classify') pending.find((p) => p.photo === job.photo)!.kind = 'classify';
          continue;
        }
        queued.add(job.photo);
        pending.push({ ...job });
        added++;
      }
      emit({ total: state.total + added });
      if (!paused) start();
    },
    pause() {
      paused = true;
      if (!running) emit({ state: 'paused' });
    },
    resume() {
      paused = false;
      wake?.();
      if (pending.length > 0) start();
      else if (state.state === 'paused') emit({ state: 'done' });
    },
    cancel() {
      const dropped = pending.length;
      pending.length = 0;
      queued.clear();
      emit({ state: 'cancelled', total: state.total - dropped, current: undefined });
      paused = false;
      wake?.();
    },
    progress: () => ({ ...state }),
    async resetClassifier() {
      const old = classifier;
      classifier = null;
      await old?.dispose();
    },
    whenIdle() {
      return isIdle() ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
