import type { TaggingProgress } from '../shared/api.js';
import type { Classification, Classifier } from './classifier.js';
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
  /** Maps a model-loading failure (offline, bad weights file) to one sentence for the user. */
  describeLoadError?(error: unknown): string;
}

export interface TaggingQueue {
  /** Adds jobs (a photo already queued is not queued twice) and starts if idle. */
  enqueue(jobs: readonly TaggingJob[]): void;
  pause(): void;
  resume(): void;
  /** Drops the pending jobs; the photo in flight finishes and is saved. */
  cancel(): void;
  progress(): TaggingProgress;
  /** Resolves when the queue has nothing left to do (or is paused with work left). */
  whenIdle(): Promise<void>;
  /** Forgets the loaded classifier (weights or engine changed); the next job loads anew. */
  resetClassifier(): Promise<void>;
}

/**
 * Runs tagging jobs one photo at a time off the UI (the classifier itself runs in a utility
 * process and may batch inside). Each finished photo is stored before the next starts, so
 * pausing, cancelling or quitting never loses finished work.
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

  const loop = async (): Promise<void> => {
    let sinceCheckpoint = 0;
    while (pending.length > 0) {
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
      const job = pending[0]!;
      let model: Classifier | null = null;
      if (job.kind === 'classify') {
        model = await loadClassifier();
        if (!model) {
          pending.length = 0;
          queued.clear();
          break;
        }
      }
      pending.shift();
      queued.delete(job.photo);
      emit({ state: 'running', current: job.photo });
      try {
        if (model) {
          let result: Classification;
          try {
            result = await model.classify(job.photo, options.topK());
          } catch (error) {
            throw new ClassifierError(job.photo, error);
          }
          await options.onClassified(job.photo, result, model.modelId);
        } else {
          await options.onRewrite(job.photo);
        }
        emit({ done: state.done + 1 });
      } catch (error) {
        await options.onFailed(job.photo, error instanceof Error ? error : new Error(String(error)));
        emit({ failed: state.failed + 1 });
      }
      if (++sinceCheckpoint >= every) {
        sinceCheckpoint = 0;
        await options.onCheckpoint?.();
      }
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
