import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { CliError, EXIT } from '../cli-error.js';
import { asOutputError, checkModelRecord, csvHeader, describeHolder, EmbeddingJournal, hashWeights, InFlightJournal, type InputEntry, inShard, listInputs, lockOutput, modelId, type ModelRecord, type OpenedResults, parquetJournalOf, pathsFileOf, resolveShard, type ResultRow, ResultsFile, shardOutputPath, stopOnSignal, type StopOnSignal, untilStopped } from '@xception/batch';
import { decideDevice, detectCuda, NO_CUDA, type DeviceChoice, type DeviceDecision } from '../device/cuda-detect.js';
import type { EngineChoice } from '@xception/engines';
import { checkImageSize, openModel, runImagePipeline, type OpenedModel, type OpenModelOptions, type PipelineSummary } from '@xception/runtime';
import { decodeTop } from '../class-names.js';
import { withDownloadBar } from '../download-bar.js';
import { createProgressReporter, type LogFormat } from '../progress-reporter.js';

export interface ImagesCommandOptions {
  out: string;
  topK: number;
  batchSize: number;
  weights: string;
  engine: EngineChoice;
  threads?: number;
  recursive: boolean;
  shard?: string;
  quiet: boolean;
  logFormat: LogFormat;
  /** --image-size; absent: the weights' saved size, else 299. */
  imageSize?: number;
  resize: 'squash' | 'center-crop';
  /** Seconds to wait for another run writing the same --out (default: refuse at once). */
  waitLock?: number;
  /** Images decoded at once (the pipeline's default when absent). */
  decodeThreads?: number;
  /** auto (the GPU when onnxruntime's CUDA provider and a driver are there), cpu, or cuda (refused when either is missing). */
  device?: DeviceChoice;
  /** Drop the error rows of earlier runs and run those inputs again. */
  retryFailed?: boolean;
}

/** classify (top-k rows) and embed (2048-d feature rows): one pipeline, two row shapes. */
export async function runImagesCommand(kind: 'classify' | 'embed', inputs: readonly string[], o: ImagesCommandOptions): Promise<number> {
  if (inputs.length === 0) throw new CliError('ERR_USAGE', `Nothing to ${kind}: give files, folders, globs, or - to read paths from standard input.`, EXIT.usage);
  checkImageSize(o.weights, o.imageSize);
  const reporter = createProgressReporter({ quiet: o.quiet, format: o.logFormat });
  const shard = resolveShard(o.shard);
  const out = shardOutputPath(o.out, shard);
  // --out x.parquet: rows go to a journal beside it (JSONL, or the .npy journal for embed), and
  // x.parquet is written from it when the run finishes (see parquet-output.ts for why).
  const parquetOut = /\.parquet$/i.test(out) ? out : null;
  const journal = parquetOut ? parquetJournalOf(parquetOut, kind) : out;
  // embed --out x.npy: x.npy is its own journal (rows appended in place), with x.paths.txt beside.
  const npyOut = kind === 'embed' && /\.npy$/i.test(journal) ? journal : null;
  if (kind === 'embed' && /\.csv$/i.test(out)) {
    throw new CliError('ERR_USAGE', 'embed writes .npy (with <name>.paths.txt), .parquet or .jsonl; a CSV has no room for 2048 features per image: use --out features.npy.', EXIT.usage);
  }
  if (kind === 'classify' && /\.npy$/i.test(out)) throw new CliError('ERR_USAGE', 'classify writes .jsonl, .csv or .parquet; .npy is for embed.', EXIT.usage);
  // --device cuda fails here, before anything is locked or written.
  const device = decideDevice(o.device ?? 'auto', o.engine, o.device === 'cpu' ? NO_CUDA : await detectCuda());
  if (device.warning) reporter.warn(device.warning);
  if (o.out === '-') {
    // --out -: JSONL rows on stdout, for a pipe; no file, so no lock, no resume, no journal.
    if (kind === 'embed' || o.shard) throw new CliError('ERR_USAGE', '--out - writes classify rows to standard output; embed and --shard need a file for --out.', EXIT.usage);
    const stop = stopOnSignal((line) => reporter.warn(line));
    try {
      return await runLocked(kind, inputs, o, { reporter, shard, out, npyOut: null, parquetOut: null, journal: out, device, lockLost: new Promise<never>(() => undefined), stop });
    } finally {
      stop.dispose();
    }
  }
  // The output folder is created, as `mkdir -p` would.
  await mkdir(dirname(out), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError('ERR_OUTPUT_UNWRITABLE', `Cannot create the folder of --out ${out} (${error.code}); choose a writable --out.`);
  });
  // A folder is refused before anything (the model record beside it) is written.
  if ((await stat(out).catch(() => null))?.isDirectory()) throw asOutputError(Object.assign(new Error(), { code: 'EISDIR', path: out }), out);
  const lock = await lockOutput(out, {
    waitSeconds: o.waitLock ?? 0,
    onWait: (holder) => reporter.info(`waiting for ${out}: another run is writing it (${describeHolder(holder)})`),
    onStale: (holder, seconds) => reporter.info(`waiting ${seconds} s for the lock on ${out} to go stale: its holder (${describeHolder(holder)}) stopped refreshing it, so that run is gone`),
  }).catch((error: unknown) => { throw asOutputError(error, out); });
  const stop = stopOnSignal((line) => reporter.warn(line));
  stop.onAbandon(() => lock.releaseSync());
  try {
    return await runLocked(kind, inputs, o, { reporter, shard, out, npyOut, parquetOut, journal, device, lockLost: lock.compromised, stop });
  } catch (error) {
    throw asOutputError(error, out);
  } finally {
    await lock.release();
    stop.dispose();
  }
}

interface RunContext {
  reporter: ReturnType<typeof createProgressReporter>;
  shard: ReturnType<typeof resolveShard>;
  out: string;
  npyOut: string | null;
  /** --out x.parquet, written from the journal at the end of the run. */
  parquetOut: string | null;
  journal: string;
  device: DeviceDecision;
  /** Rejects when the output lock was lost: the run stops before writing another row. */
  lockLost: Promise<never>;
  /** SIGTERM / SIGINT: the listing stops, and the run ends early with 128 + the signal's number. */
  stop: StopOnSignal;
}

async function runLocked(kind: 'classify' | 'embed', inputs: readonly string[], o: ImagesCommandOptions, c: RunContext): Promise<number> {
  const { reporter, shard, out, npyOut, parquetOut, journal, device } = c;
  let lost: Error | null = null;
  c.lockLost.catch((error: Error) => { lost = error; });
  // The model first: resuming an output with another model is refused before anything is written.
  const held: { record?: ModelRecord } = {};
  const opened = await openEngine(o, c, async (weights, { imageSize }) => {
    // The record hashes the decoded values (the same weights from any file format give one record).
    const record: ModelRecord = held.record = {
      kind, weights: o.weights, weightsSha256: hashWeights(weights), top: true, inputSize: imageSize, resize: o.resize, topK: kind === 'classify' ? o.topK : null,
    };
    if (out !== '-') await checkModelRecord(out, record, { outputHasRows: ((await stat(journal).catch(() => null))?.size ?? 0) > 0 });
  });
  const { engine, imageSize } = opened;
  const record = held.record!;
  const model = modelId(record);
  const existed = existsSync(journal);
  const { file, done, resumed } = await openResults(kind, o, c).catch(async (error: unknown) => { await engine.dispose(); throw error; });
  let failedEarly = true;
  try {
    if (resumed.rows > 0) reporter.info(`resuming ${out}: ${resumed.rows} inputs already done${resumed.retried ? `, ${resumed.retried} failed ones to retry` : ''}${resumed.droppedTornBytes ? `, a torn last line (${resumed.droppedTornBytes} bytes) dropped` : ''}`);
    if (shard) reporter.info(`shard ${shard.index}/${shard.count} (from ${shard.source}) → ${out}`);
    reporter.info(`engine: ${engine.detail}; batch size ${o.batchSize}`);
    let disposed = false;
    const disposeEngine = async (): Promise<void> => {
      if (!disposed) { disposed = true; await engine.dispose(); }
    };

    // Count the inputs beside the run, streaming too, so that the ETA appears once it is known.
    if (!inputs.includes('-')) {
      void (async () => {
        let total = 0;
        for await (const entry of listInputs(inputs, { recursive: o.recursive })) if (inShard(entry.path, shard)) total++;
        reporter.setTotal(total);
      })().catch(() => undefined);
    }
    const inFlight = await InFlightJournal.open(out === '-' ? null : `${out}.inflight.jsonl`, done);
    c.stop.onAbandon(() => inFlight.closeSync()); // stopped on purpose: what is in flight did not crash the process
    try {
      // Inputs in flight when two runs died get an error row; those in flight once are retried alone, last.
      const poisoned = inFlight.poisoned();
      for (const path of poisoned) {
        done.add(path);
        inFlight.finished(path);
      }
      await file.append(poisoned.map((path) => ({
        path,
        error: { code: 'ERR_INPUT_CRASHED', message: `The process died twice while ${path} was being read or run; it is skipped (rerun with --retry-failed to try it again).` },
      })));
      if (poisoned.length > 0) reporter.info(`${poisoned.length} inputs crashed the process twice and got ERR_INPUT_CRASHED rows`);
      const suspects = inFlight.suspects();
      const deferred: InputEntry[] = [];
      const pipeline = (inputs: AsyncIterable<InputEntry>, batchSize: number) => runImagePipeline<ResultRow>({
        inputs,
        done,
        accept: (path) => inShard(path, shard),
        engine,
        batchSize,
        ...(o.decodeThreads ? { decodeConcurrency: o.decodeThreads } : {}),
        imageSize: [imageSize, imageSize],
        image: { resize: o.resize },
        onCounts: (counts) => reporter.update(counts),
        onStart: async (path) => {
          await inFlight.started(path);
          if (process.env.XCEPTION_TEST_CRASH_ON && basename(path) === process.env.XCEPTION_TEST_CRASH_ON) process.kill(process.pid, 'SIGKILL');
        },
        write: async (rows) => {
          if (lost) throw lost;
          await file.append(rows);
          for (const r of rows) inFlight.finished(r.path);
        },
        toRows: (items, result, inferMs) => {
          const top = kind === 'classify'
            ? decodeTop(result.output, items.length, opened, o.topK)
            : null;
          return items.map((item, i): ResultRow => ({
            path: item.path,
            model,
            size: item.size,
            mtime: item.mtime,
            ...(top ? { top: top[i]!.map((p) => ({ index: p.index, wnid: p.wnid, label: p.label, score: p.score })) } : {}),
            ...(kind === 'embed' ? { features: Array.from(result.features.subarray(i * 2048, (i + 1) * 2048)) } : {}),
            timing: { decodeMs: round(item.decodeMs), inferMs: round(inferMs) },
          }));
        },
      });
      let summary = await pipeline(untilStopped(withoutSuspects(listInputs(inputs, { recursive: o.recursive }), suspects, deferred), c.stop.stopped), o.batchSize);
      if (c.stop.signal) {
        reporter.warn(`stopped by ${c.stop.signal} after ${summary.done} inputs (${summary.ok} ok, ${summary.failed} failed); rows are in ${out}; rerun the same command to resume`);
        failedEarly = false;
        return c.stop.exitCode();
      }
      for (const entry of deferred) summary = addSummaries(summary, await pipeline(oneEntry(entry), 1));
      summary = addSummaries(summary, { done: poisoned.length, ok: 0, failed: poisoned.length, skipped: 0, seconds: 0, imagesPerSecond: 0, inferSeconds: 0 });
      const failures = summary.failed + resumed.failures;
      let parquetRows: number | null = null;
      // Rewritten when this run added or replaced rows, or when it is missing.
      if (parquetOut && (summary.done > 0 || resumed.retried > 0 || !existsSync(parquetOut))) {
        if (lost) throw lost;
        await disposeEngine(); // its memory (onnxruntime's arena) is given back before the file is encoded
        const { writeParquetFromJournal } = await import('@xception/batch/parquet');
        parquetRows = await writeParquetFromJournal(parquetOut, { kind, topK: kind === 'classify' ? o.topK : null, model: JSON.stringify({ ...record, id: model }) });
      }
      reporter.finish({
        ...summary,
        out,
        // The process's peak resident memory (main and worker threads together), for the benchmark.
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        message: `${kind === 'classify' ? 'classified' : 'embedded'} ${summary.done} inputs: ${summary.ok} ok, ${summary.failed} failed, ${summary.skipped} already done; ` +
          `${summary.seconds.toFixed(1)} s, ${summary.imagesPerSecond.toFixed(2)} images/s (inference ${summary.inferSeconds.toFixed(1)} s); ` +
          (parquetOut ? `results in ${out}${parquetRows === null ? ' (unchanged)' : ` (${parquetRows} rows)`}, journal ${journal}`
            : file instanceof EmbeddingJournal ? `${file.rowCount} feature rows in ${out} with their paths in ${pathsFileOf(out)}` : `results in ${out}`),
      });
      failedEarly = false;
      return failures > 0 ? EXIT.partialFailure : EXIT.ok;
    } finally {
      await inFlight.close();
      await disposeEngine();
    }
  } finally {
    await file.close();
    // A run that stopped before its first row (no weights, no engine) leaves no empty file behind.
    if (failedEarly && !existed) {
      if (file instanceof EmbeddingJournal) await file.removeIfEmpty();
      else {
        const size = (await stat(journal).catch(() => null))?.size;
        if (size !== undefined && size <= (file.format === 'csv' ? csvHeader(o.topK).length + 1 : 0)) await rm(journal, { force: true });
      }
    }
  }
}

/** The engine `--engine` names (onnx when --device cuda), on the CPU when --device says so. */
function openEngine(o: ImagesCommandOptions, c: RunContext, onWeights: NonNullable<OpenModelOptions['onWeights']>): Promise<OpenedModel> {
  return withDownloadBar((onProgress) => openModel(o.weights, {
    engine: o.device === 'cuda' ? 'onnx' : o.engine,
    device: o.device === 'cuda' ? 'cuda' : c.device.device === 'cpu' ? 'cpu' : 'auto',
    ...(o.imageSize ? { imageSize: o.imageSize } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
    onProgress,
    onWeights,
    log: (line) => c.reporter.info(line),
  }));
}

/** The results file (or the .npy journal) to append to, with the inputs it already has rows for. */
function openResults(kind: 'classify' | 'embed', o: ImagesCommandOptions, c: RunContext): Promise<OpenedResults<ResultsFile | EmbeddingJournal>> {
  if (c.npyOut) return EmbeddingJournal.open(c.npyOut, { retryFailed: o.retryFailed ?? false, ...(c.parquetOut ? { errorsPath: `${c.parquetOut}.errors.jsonl` } : {}) });
  if (c.out === '-') return Promise.resolve(ResultsFile.toStdout(o.topK));
  return ResultsFile.open(c.journal, { topK: o.topK, retryFailed: o.retryFailed ?? false });
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

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

function addSummaries(a: PipelineSummary, b: PipelineSummary): PipelineSummary {
  const seconds = a.seconds + b.seconds;
  const done = a.done + b.done;
  return {
    done, ok: a.ok + b.ok, failed: a.failed + b.failed, skipped: a.skipped + b.skipped,
    seconds, imagesPerSecond: done / Math.max(seconds, 1e-9), inferSeconds: a.inferSeconds + b.inferSeconds,
  };
}
