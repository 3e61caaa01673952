import { libraryWords, type BatchWords } from './batch-error.js';
import type { InFlightJournal } from './in-flight-journal.js';
import type { InputEntry } from './list-inputs.js';
import type { PathSet } from './path-set.js';
import type { ResultRow } from './results-file.js';
import { untilStopped, type StopOnSignal } from './stop-on-signal.js';

/** What a run over a stream of inputs counts (the shape of @xception/runtime's PipelineSummary). */
export interface RunSummary {
  done: number;
  ok: number;
  failed: number;
  skipped: number;
  seconds: number;
  imagesPerSecond: number;
  inferSeconds: number;
}

/** What the engine pipeline must call for the run to survive a crash, a lost lock and a signal. */
export interface RunHooks {
  /** Before an input is decoded: the in-flight journal. */
  onStart(path: string): Promise<void>;
  /** A finished batch: appended durably, then no longer in flight. */
  write(rows: readonly ResultRow[]): Promise<void>;
}

export interface ResumableRunOptions {
  listing: AsyncIterable<InputEntry>;
  /** Paths that have a row already (skipped); the inputs given up on are added. */
  done: PathSet;
  results: { append(rows: readonly ResultRow[]): Promise<void> };
  inFlight: InFlightJournal;
  /** SIGTERM / SIGINT (stopOnSignal): no new inputs are taken once `stopped` resolves. */
  stop: Pick<StopOnSignal, 'stopped' | 'signal'>;
  /** Rejects when the output's lock was lost: no row is written after. */
  lockLost?: Promise<never>;
  batchSize: number;
  /** Runs a stream of inputs in batches (the decode → engine pipeline), calling the hooks. */
  run(inputs: AsyncIterable<InputEntry>, batchSize: number, hooks: RunHooks): Promise<RunSummary>;
  /** How the rows of given-up inputs name the retry option. */
  words?: BatchWords;
}

export interface ResumableRunResult {
  summary: RunSummary;
  /** Inputs that crashed the process twice: given an ERR_INPUT_CRASHED row, not run. */
  poisoned: number;
  /** A signal stopped the run before its end (the held-back inputs were not run). */
  stopped: boolean;
  /** The output's lock was lost during the run (no row was written after): nothing more may be written. */
  lockLost: Error | null;
}

/**
 * One run of a resumable job. Inputs in flight when two earlier runs died get an error row
 * (ERR_INPUT_CRASHED); those in flight when one run died are held back and run alone, last, so
 * that a crash names the one input. A signal stops the listing; a lost lock stops the writes.
 */
export async function runResumable(o: ResumableRunOptions): Promise<ResumableRunResult> {
  const words = o.words ?? libraryWords;
  const poisoned = o.inFlight.poisoned();
  for (const path of poisoned) {
    o.done.add(path);
    o.inFlight.finished(path);
  }
  await o.results.append(poisoned.map((path) => ({
    path,
    error: { code: 'ERR_INPUT_CRASHED', message: `The process died twice while ${path} was being read or run; it is skipped (rerun with ${words.option('retryFailed')} to try it again).` },
  })));
  let lost: Error | null = null;
  o.lockLost?.catch((error: Error) => { lost = error; });
  const hooks: RunHooks = {
    onStart: (path) => o.inFlight.started(path),
    write: async (rows) => {
      if (lost) throw lost;
      await o.results.append(rows);
      for (const r of rows) o.inFlight.finished(r.path);
    },
  };
  const deferred: InputEntry[] = [];
  let summary = await o.run(untilStopped(withoutSuspects(o.listing, o.inFlight.suspects(), deferred), o.stop.stopped), o.batchSize, hooks);
  if (o.stop.signal) return { summary, poisoned: poisoned.length, stopped: true, lockLost: lost };
  for (const entry of deferred) summary = addSummaries(summary, await o.run(oneEntry(entry), 1, hooks));
  summary = addSummaries(summary, { done: poisoned.length, ok: 0, failed: poisoned.length, skipped: 0, seconds: 0, imagesPerSecond: 0, inferSeconds: 0 });
  return { summary, poisoned: poisoned.length, stopped: false, lockLost: lost };
}

/** Holds back the inputs a dead run had in flight, to be run one at a time at the end. */
async function* withoutSuspects(listing: AsyncIterable<InputEntry>, suspects: Set<string>, deferred: InputEntry[]): AsyncGenerator<InputEntry> {
  for await (const entry of listing) {
    if (suspects.delete(entry.path)) deferred.push(entry);
    else yield entry;
  }
}

async function* oneEntry(entry: InputEntry): AsyncGenerator<InputEntry> {
  yield entry;
}

function addSummaries(a: RunSummary, b: RunSummary): RunSummary {
  const seconds = a.seconds + b.seconds;
  const done = a.done + b.done;
  return {
    done, ok: a.ok + b.ok, failed: a.failed + b.failed, skipped: a.skipped + b.skipped,
    seconds, imagesPerSecond: done / Math.max(seconds, 1e-9), inferSeconds: a.inferSeconds + b.inferSeconds,
  };
}
