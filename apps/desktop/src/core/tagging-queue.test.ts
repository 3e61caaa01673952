import { describe, expect, it } from 'vitest';
import type { TaggingProgress } from '../shared/api.js';
import type { Classification, Classifier } from './classifier.js';
import { createTaggingQueue, type TaggingQueueOptions } from './tagging-queue.js';

function fakeClassifier(delayMs: number, failOn: string[] = []): Classifier & { loads: number } {
  const c = {
    modelId: 'fake',
    loads: 0,
    async load() {
      c.loads++;
    },
    async classify(photo: string) {
      await new Promise((r) => setTimeout(r, delayMs));
      if (failOn.includes(photo)) throw new Error('corrupt JPEG data');
      return { predictions: [{ index: 1, label: 'goldfish', score: 0.9 }], features: new Float32Array(4) };
    },
    async dispose() {},
  };
  return c;
}

function setup(classifier: Classifier, over: Partial<TaggingQueueOptions> = {}) {
  const stored: string[] = [];
  const failed: string[] = [];
  const progress: TaggingProgress[] = [];
  const queue = createTaggingQueue({
    classifier: async () => classifier,
    topK: () => 5,
    async onClassified(photo) {
      stored.push(photo);
    },
    async onRewrite(photo) {
      stored.push(`rewrite:${photo}`);
    },
    onFailed(photo, error) {
      failed.push(`${photo}: ${error.message}`);
    },
    onProgress: (p) => progress.push(p),
    ...over,
  });
  return { queue, stored, failed, progress };
}

const jobs = (n: number) => Array.from({ length: n }, (_, i) => ({ photo: `/p/${i}.jpg`, kind: 'classify' as const }));

describe('tagging queue', () => {
  it('tags every photo once, loads the model once, and reports progress to done', async () => {
    const classifier = fakeClassifier(1);
    const { queue, stored, progress } = setup(classifier);
    queue.enqueue(jobs(5));
    queue.enqueue(jobs(5)); // already queued: not twice
    await queue.whenIdle();
    expect(stored).toEqual(jobs(5).map((j) => j.photo));
    expect(classifier.loads).toBe(1);
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 5, failed: 0, total: 5 });
    expect(progress.some((p) => p.state === 'loading-model')).toBe(true);
  });

  it('a failing photo is reported and the queue goes on', async () => {
    const { queue, stored, failed, progress } = setup(fakeClassifier(1, ['/p/1.jpg']));
    queue.enqueue(jobs(3));
    await queue.whenIdle();
    expect(stored).toEqual(['/p/0.jpg', '/p/2.jpg']);
    expect(failed).toEqual(["/p/1.jpg: Could not tag '/p/1.jpg' (corrupt JPEG data); the photo may be damaged or not an image."]);
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 2, failed: 1 });
  });

  it('a photo-by-photo classifier (no classifyBatch) pauses after the photo in flight, resumes where it stopped, and cancel keeps finished work', async () => {
    const { queue, stored, progress } = setup(fakeClassifier(20));
    queue.enqueue(jobs(20));
    await new Promise((r) => setTimeout(r, 50));
    queue.pause();
    await queue.whenIdle();
    const atPause = stored.length;
    expect(progress.at(-1)?.state).toBe('paused');
    await new Promise((r) => setTimeout(r, 60));
    expect(stored.length).toBe(atPause); // nothing runs while paused
    queue.resume();
    await new Promise((r) => setTimeout(r, 50));
    queue.cancel();
    await queue.whenIdle();
    const last = progress.at(-1)!;
    expect(last.state).toBe('cancelled');
    expect(stored.length).toBeGreaterThan(atPause);
    expect(stored.length).toBeLessThan(20);
    expect(last.done).toBe(stored.length); // the photo in flight at cancel was still stored
    expect(stored).toEqual(jobs(20).slice(0, stored.length).map((j) => j.photo));
  });

  it('a model that cannot load fails the run with one message and no photo marked failed', async () => {
    const broken: Classifier = { ...fakeClassifier(1), load: async () => Promise.reject(new Error('getaddrinfo ENOTFOUND')) };
    const { queue, failed, progress } = setup(broken, { describeLoadError: () => 'You are offline and the ImageNet weights are not downloaded yet.' });
    queue.enqueue(jobs(3));
    await queue.whenIdle();
    expect(failed).toEqual([]);
    expect(progress.at(-1)).toMatchObject({ state: 'failed', message: 'You are offline and the ImageNet weights are not downloaded yet.' });
  });

  it('rewrite jobs need no model', async () => {
    const classifier = fakeClassifier(1);
    const { queue, stored } = setup(classifier);
    queue.enqueue([{ photo: '/p/a.jpg', kind: 'rewrite' }]);
    await queue.whenIdle();
    expect(stored).toEqual(['rewrite:/p/a.jpg']);
    expect(classifier.loads).toBe(0);
  });
});

/** A stand-in engine: each batch takes `batchMs`, whatever its size; records when batches start. */
function slowBatchClassifier(batchMs: number) {
  const calls: { photos: string[]; next: string[]; at: number }[] = [];
  const classifier: Classifier = {
    modelId: 'slow',
    async load() {},
    async classify() {
      throw new Error('the queue must use classifyBatch');
    },
    async classifyBatch(photos, _topK, next = []) {
      calls.push({ photos: [...photos], next: [...next], at: performance.now() });
      await new Promise((r) => setTimeout(r, batchMs));
      return photos.map((): Classification => ({ predictions: [{ index: 1, label: 'goldfish', score: 0.9 }], features: new Float32Array(4) }));
    },
    async dispose() {},
  };
  return { classifier, calls };
}

describe('tagging queue in batches', () => {
  const BATCH_MS = 120;
  // One batch in flight at most: pause and cancel wait for its remainder plus timer slack, well
  // under the two batches that a queue keeping two in flight would make them wait.
  const BOUND_MS = BATCH_MS * 1.75;

  it('runs batches of 8, names the next batch ahead, and stores a batch while the next one runs', async () => {
    const { classifier, calls } = slowBatchClassifier(40);
    const storedAt: number[] = [];
    const { queue, stored, progress } = setup(classifier, {
      async onClassified(photo) {
        await new Promise((r) => setTimeout(r, 5));
        stored.push(photo);
        storedAt.push(performance.now());
      },
    });
    queue.enqueue(jobs(20));
    await queue.whenIdle();
    expect(calls.map((c) => c.photos.length)).toEqual([8, 8, 4]);
    expect(calls[0]!.next).toEqual(calls[1]!.photos);
    expect(calls[1]!.next).toEqual(calls[2]!.photos);
    expect(calls[2]!.next).toEqual([]);
    expect(stored).toEqual(jobs(20).map((j) => j.photo));
    // Batch 2 started before batch 1's first photo was stored (8 stores take >= 40 ms).
    expect(calls[1]!.at).toBeLessThan(storedAt[0]!);
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 20, failed: 0, total: 20 });
  });

  it('saves the index after enough photos only once the interval has passed, and when it stops', async () => {
    const { classifier } = slowBatchClassifier(1);
    let clock = 0;
    const saves: number[] = [];
    const { queue } = setup(classifier, {
      checkpointEvery: 5,
      checkpointIntervalMs: 1000,
      now: () => clock,
      async onClassified() {
        clock += 100; // each photo stored takes 100 ms on this clock
      },
      async onCheckpoint() {
        saves.push(clock);
      },
    });
    queue.enqueue(jobs(20));
    await queue.whenIdle();
    // Batches of 8: after the first (800 ms) too soon; after the second (1600 ms) saved; then 4
    // photos, too few; and the save when the queue stops.
    expect(saves).toEqual([1600, 2000]);
  });

  it(`pause: no new batch starts, the batch in flight finishes and is stored, within ${BOUND_MS} ms`, async () => {
    const { classifier, calls } = slowBatchClassifier(BATCH_MS);
    const { queue, stored, progress } = setup(classifier);
    queue.enqueue(jobs(48));
    await new Promise((r) => setTimeout(r, BATCH_MS * 2.5));
    const pausedAt = performance.now();
    queue.pause();
    await queue.whenIdle();
    const waited = performance.now() - pausedAt;
    console.log(`pause took ${waited.toFixed(0)} ms with ${BATCH_MS} ms batches`);
    expect(waited).toBeLessThanOrEqual(BOUND_MS);
    expect(progress.at(-1)?.state).toBe('paused');
    expect(calls.every((c) => c.at < pausedAt)).toBe(true);
    expect(stored.length).toBe(calls.length * 8); // every batch that started was stored
    const startedBeforePause = calls.length;
    await new Promise((r) => setTimeout(r, BATCH_MS * 2));
    expect(calls.length).toBe(startedBeforePause);
    queue.resume();
    await new Promise((r) => setTimeout(r, BATCH_MS / 2));
    expect(calls.length).toBe(startedBeforePause + 1);
    queue.cancel();
    await queue.whenIdle();
  });

  it(`cancel: queued photos are dropped, the batch in flight is stored, within ${BOUND_MS} ms`, async () => {
    const { classifier, calls } = slowBatchClassifier(BATCH_MS);
    const { queue, stored, progress } = setup(classifier);
    queue.enqueue(jobs(48));
    await new Promise((r) => setTimeout(r, BATCH_MS * 1.5));
    const cancelledAt = performance.now();
    queue.cancel();
    await queue.whenIdle();
    const waited = performance.now() - cancelledAt;
    console.log(`cancel took ${waited.toFixed(0)} ms with ${BATCH_MS} ms batches`);
    expect(waited).toBeLessThanOrEqual(BOUND_MS);
    expect(calls.every((c) => c.at < cancelledAt)).toBe(true);
    expect(stored).toEqual(jobs(48).slice(0, calls.length * 8).map((j) => j.photo));
    expect(stored.length).toBeLessThan(48);
    expect(progress.at(-1)).toMatchObject({ state: 'cancelled', done: stored.length, total: stored.length });
    await new Promise((r) => setTimeout(r, BATCH_MS * 2));
    expect(stored.length).toBe(calls.length * 8); // nothing more ran
  });
});

/** A stand-in engine whose batches end only when the test says so (no timing involved). */
function gatedClassifier() {
  const calls: string[][] = [];
  /** Each call's `thumbnails`: the photos whose decode also makes the grid's thumbnail. */
  const thumbnails: string[][] = [];
  const gates: Array<() => void> = [];
  let started: () => void = () => undefined;
  let gated = true;
  const classifier: Classifier = {
    modelId: 'gated',
    async load() {},
    async classify() {
      throw new Error('the queue must use classifyBatch');
    },
    async classifyBatch(photos, _topK, _next, wanted = []) {
      calls.push([...photos]);
      thumbnails.push([...wanted]);
      started();
      if (gated) await new Promise<void>((r) => gates.push(r));
      return photos.map((): Classification => ({ predictions: [{ index: 1, label: 'goldfish', score: 0.9 }], features: new Float32Array(4) }));
    },
    async dispose() {},
  };
  /** Resolves when the queue has called classifyBatch `n` times in all. */
  const calledTimes = (n: number): Promise<void> => (calls.length >= n ? Promise.resolve() : new Promise<void>((r) => (started = () => calls.length >= n && r())));
  const releaseNext = (): void => gates.shift()?.();
  /** Every batch from now on ends at once. */
  const releaseAll = (): void => {
    gated = false;
    for (const gate of gates.splice(0)) gate();
  };
  return { classifier, calls, thumbnails, calledTimes, releaseNext, releaseAll };
}

describe('tagging queue: counts and waiting for a photo', () => {
  it('"Tag new" pressed while a batch is in inference does not tag its photos twice: 10 photos say 10/10', async () => {
    const { classifier, calls, calledTimes, releaseNext, releaseAll } = gatedClassifier();
    const { queue, stored, progress } = setup(classifier);
    queue.enqueue(jobs(10));
    await calledTimes(1);
    // The page's "Tag new": every photo not tagged yet, the 8 in inference included.
    queue.enqueue(jobs(10));
    releaseNext();
    await calledTimes(2);
    queue.enqueue(jobs(10)); // again while batch 1 is stored and batch 2 runs
    releaseAll();
    await queue.whenIdle();
    expect(calls.map((c) => c.length)).toEqual([8, 2]);
    expect(stored).toEqual(jobs(10).map((j) => j.photo));
    expect(progress.at(-1)).toMatchObject({ state: 'done', done: 10, total: 10 });
  });

  it('a photo someone waits for moves to the front and the wait ends when it is stored; unknown photos get null', async () => {
    const { classifier, calls, calledTimes, releaseNext } = gatedClassifier();
    const { queue, stored } = setup(classifier);
    queue.enqueue(jobs(20));
    await calledTimes(1);
    expect(queue.prioritize('/p/nowhere.jpg')).toBeNull();
    let inFlightDone = false;
    const inFlight = queue.prioritize('/p/3.jpg')!.then(() => (inFlightDone = true));
    const waited = queue.prioritize('/p/17.jpg')!;
    releaseNext();
    await inFlight;
    expect(stored).toContain('/p/3.jpg');
    await calledTimes(2);
    expect(calls[1]![0]).toBe('/p/17.jpg');
    releaseNext();
    await waited;
    expect(inFlightDone).toBe(true);
    expect(stored).toContain('/p/17.jpg');
    releaseNext();
    await queue.whenIdle();
    expect(queue.prioritize('/p/17.jpg')).toBeNull();
    expect([...stored].sort()).toEqual(jobs(20).map((j) => j.photo).sort());
  });

  it('asks for thumbnails only for the photos the grid shows or waits for, in the batch or the next one', async () => {
    const { classifier, calls, thumbnails, calledTimes, releaseNext, releaseAll } = gatedClassifier();
    const { queue } = setup(classifier);
    queue.showThumbnails(['/p/2.jpg', '/p/12.jpg']);
    queue.enqueue(jobs(30));
    await calledTimes(1);
    // Batch 1 is p0–p7 and names p8–p15 as the next: p12 is decoded ahead with its thumbnail.
    expect(thumbnails[0]).toEqual(['/p/2.jpg', '/p/12.jpg']);
    const waited = queue.prioritize('/p/25.jpg')!;
    queue.showThumbnails(['/p/20.jpg']); // the grid scrolled: p2 and p12 are out of view
    releaseNext();
    await calledTimes(2);
    expect(calls[1]![0]).toBe('/p/25.jpg');
    expect(thumbnails[1]).toEqual(['/p/25.jpg', '/p/20.jpg']);
    releaseAll();
    await waited;
    await queue.whenIdle();
    expect(thumbnails.slice(2).flat()).toEqual(['/p/20.jpg']);
    expect(calls.flat()).toHaveLength(30);
  });

  it('waits end when the queue pauses or cancels, so that nobody waits on a stopped queue', async () => {
    const { classifier, calledTimes, releaseNext } = gatedClassifier();
    const { queue } = setup(classifier);
    queue.enqueue(jobs(30));
    await calledTimes(1);
    const paused = queue.prioritize('/p/20.jpg')!;
    queue.pause();
    await paused;
    expect(queue.prioritize('/p/21.jpg')).toBeNull(); // paused: nothing will come
    queue.resume();
    releaseNext();
    await calledTimes(2);
    const cancelled = queue.prioritize('/p/29.jpg')!;
    queue.cancel();
    await cancelled;
    releaseNext();
    await queue.whenIdle();
  });
});
