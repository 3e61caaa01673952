import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CliError, EXIT } from '../cli-error.js';
import type { EngineChoice } from '@xception/engines';
import { checkImageSize, decideDevice, detectCuda, NO_CUDA, openModel, runImagePipeline, type DeviceChoice, type DeviceDecision, type OpenedModel, type OpenModelOptions, type Precision } from '@xception/runtime';
import {
  asOutputError, checkModelRecord, claimOutput, describeHolder, EmbeddingJournal, hashWeights, InFlightJournal, inShard, isTarShard, listInputs, modelId,
  isS3Url, openOutput, pathsFileOf, planOutput, removeEmptyOutput, resolveShard, runResumable, stopOnSignal, writeParquetOutput,
  type InputEntry, type ListOptions, type ModelRecord, type OpenedResults, type OutputPlan, type ResultRow, type ResultsFile, type RunHooks, type RunSummary, type Shard, type StopOnSignal,
} from '@xception/batch';
import type { S3Output } from '@xception/batch/s3';
import { defaultCacheDir } from '@xception/weights';
import { decodeTop } from '../class-names.js';
import { calibrateOnFirstInputs } from '../int8-calibration.js';
import { withDownloadBar } from '../download-bar.js';
import { batchFlagWords } from '../flag-words.js';
import { createProgressReporter, type LogFormat, type ProgressReporter } from '../progress-reporter.js';

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
  /** Seconds without a refresh after which a dead run's lock on --out is taken over (batch's default when absent). */
  lockStale?: number;
  /** Images decoded at once (the pipeline's default when absent). */
  decodeThreads?: number;
  /** auto (the GPU when onnxruntime's CUDA provider and a driver are there), cpu, or cuda (refused when either is missing). */
  device?: DeviceChoice;
  /** Drop the error rows of earlier runs and run those inputs again. */
  retryFailed?: boolean;
  /** --input-list: files of paths and URLs, one a line. */
  inputList?: string[];
  /** --max-input-bytes: the cap on a URL's body. */
  maxInputBytes?: number;
  /** --input-timeout: seconds per URL request. */
  inputTimeout?: number;
  /** --work-dir: where an s3:// --out is written before its upload (default: defaultWorkDir()). */
  workDir?: string;
  /** fp32 (default) or int8 (a calibrated model; calibrated on the first inputs when none is cached). */
  precision?: Precision;
}

/** Where an s3:// --out is written and resumed: `<the weights cache>/work` ($XCEPTION_HOME/work, else ~/.cache/xception/work). */
export const defaultWorkDir = (): string => join(defaultCacheDir(), 'work');

/** classify (top-k rows) and embed (2048-d feature rows): one pipeline, two row shapes. */
export async function runImagesCommand(kind: 'classify' | 'embed', inputs: readonly string[], o: ImagesCommandOptions): Promise<number> {
  if (inputs.length === 0 && !o.inputList?.length) throw new CliError('ERR_USAGE', `Nothing to ${kind}: give files, folders, globs, URLs, .tar shards, --input-list, or - to read paths from standard input.`, EXIT.usage);
  for (const list of o.inputList ?? []) {
    if (!existsSync(list)) throw new CliError('ERR_USAGE', `--input-list ${list} does not exist; give a file of paths or URLs, one a line.`, EXIT.usage);
  }
  checkImageSize(o.weights, o.imageSize);
  // The AWS SDK warns on every run under Node 20 about its own future releases: not the user's concern.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const reporter = createProgressReporter({ quiet: o.quiet, format: o.logFormat });
  const shard = resolveShard(o.shard);
  const remote = await remoteOutput(o);
  const plan = planOutput(remote?.localOut ?? o.out, kind, shard);
  // --device cuda fails here, before anything is locked or written.
  const device = decideDevice(o.device ?? 'auto', o.engine, o.device === 'cpu' ? NO_CUDA : await detectCuda());
  if (device.warning) reporter.warn(device.warning);
  const stop = (): StopOnSignal => stopOnSignal((line) => reporter.warn(line));
  if (plan.out === '-') {
    // --out -: JSONL rows on stdout, for a pipe; no file, so no lock, no resume, no journal.
    const signals = stop();
    try {
      return await runLocked(inputs, o, { reporter, shard, plan, remote, device, lockLost: new Promise<never>(() => undefined), stop: signals });
    } finally {
      signals.dispose();
    }
  }
  const { out } = plan;
  const lock = await claimOutput(out, {
    waitSeconds: o.waitLock ?? 0,
    staleSeconds: o.lockStale,
    onWait: (holder) => reporter.info(`waiting for ${out}: another run is writing it (${describeHolder(holder)})`),
    onStale: (holder, seconds) => reporter.info(`waiting ${seconds} s for the lock on ${out} to go stale: its holder (${describeHolder(holder)}) stopped refreshing it, so that run is gone`),
  });
  const signals = stop();
  signals.onAbandon(() => lock.releaseSync());
  try {
    return await runLocked(inputs, o, { reporter, shard, plan, remote, device, lockLost: lock.compromised, stop: signals });
  } catch (error) {
    throw asOutputError(error, out);
  } finally {
    await lock.release();
    signals.dispose();
  }
}

/** --out s3://bucket/key: written in --work-dir, uploaded at the end (the AWS SDK loads only then). */
async function remoteOutput(o: ImagesCommandOptions): Promise<S3Output | null> {
  if (!isS3Url(o.out)) return null;
  const { createS3Client, S3Output } = await import('@xception/batch/s3');
  const client = createS3Client();
  return S3Output.forOut(o.out, o.workDir ?? defaultWorkDir(), () => client);
}

interface RunContext {
  reporter: ProgressReporter;
  shard: Shard | null;
  plan: OutputPlan;
  /** An s3:// --out: checked before the run writes, uploaded when it ends. */
  remote: S3Output | null;
  device: DeviceDecision;
  /** Rejects when the output lock was lost: the run stops before writing another row. */
  lockLost: Promise<never>;
  /** SIGTERM / SIGINT: the listing stops, and the run ends early with 128 + the signal's number. */
  stop: StopOnSignal;
}

/** The model, then the output: resuming an output with another model is refused before anything is written. */
async function runLocked(inputs: readonly string[], o: ImagesCommandOptions, c: RunContext): Promise<number> {
  const { kind, out, journal } = c.plan;
  const held: { record?: ModelRecord } = {};
  const opened = await openEngine(inputs, o, c, async (weights, { imageSize }) => {
    // The record hashes the decoded values (the same weights from any file format give one record).
    const record: ModelRecord = held.record = {
      kind, weights: o.weights, weightsSha256: hashWeights(weights), top: true, inputSize: imageSize, resize: o.resize, topK: kind === 'classify' ? o.topK : null,
      ...(o.precision === 'int8' ? { precision: 'int8' as const } : {}),
    };
    await c.remote?.checkModel(c.plan, record);
    if (out !== '-') await checkModelRecord(out, record, { outputHasRows: ((await stat(journal).catch(() => null))?.size ?? 0) > 0 });
  });
  const existed = existsSync(journal);
  const results = await openOutput(c.plan, { topK: o.topK, retryFailed: o.retryFailed ?? false }).catch(async (error: unknown) => { await opened.engine.dispose(); throw error; });
  let failedEarly = true;
  try {
    const code = await runOpened(inputs, o, c, opened, held.record!, results);
    failedEarly = false;
    return code;
  } finally {
    await results.file.close();
    if (failedEarly && !existed) await removeEmptyOutput(results.file, journal, o.topK);
  }
}

/** Runs the inputs into the opened output, writes the Parquet file if asked, and prints the summary. */
async function runOpened(inputs: readonly string[], o: ImagesCommandOptions, c: RunContext, opened: OpenedModel, record: ModelRecord, results: OpenedResults<ResultsFile | EmbeddingJournal>): Promise<number> {
  const { reporter, shard, plan } = c;
  const { file, done, resumed } = results;
  const { engine } = opened;
  const model = modelId(record);
  if (resumed.rows > 0) reporter.info(`resuming ${plan.out}: ${resumed.rows} inputs already done${resumed.retried ? `, ${resumed.retried} failed ones to retry` : ''}${resumed.droppedTornBytes ? `, a torn last line (${resumed.droppedTornBytes} bytes) dropped` : ''}`);
  if (shard) reporter.info(`shard ${shard.index}/${shard.count} (from ${shard.source}) → ${plan.out}`);
  reporter.info(`engine: ${engine.detail}; batch size ${o.batchSize}`);
  let disposed = false;
  const disposeEngine = async (): Promise<void> => {
    if (!disposed) { disposed = true; await engine.dispose(); }
  };
  // Counting reads '-' (gone once read) and would read every .tar (and list every s3:// prefix) twice: no ETA for those.
  if (!inputs.includes('-') && !inputs.some((spec) => isTarShard(spec) || isS3Url(spec))) countInputsBeside(inputs, listOptions(o), shard, reporter);
  const inFlight = await InFlightJournal.open(plan.out === '-' ? null : `${plan.out}.inflight.jsonl`, done);
  c.stop.onAbandon(() => inFlight.closeSync()); // stopped on purpose: what is in flight did not crash the process
  try {
    const run = await runResumable({
      listing: listInputs(inputs, listOptions(o)), done, results: file, inFlight, stop: c.stop, lockLost: c.lockLost, batchSize: o.batchSize, words: batchFlagWords,
      run: (entries, batchSize, hooks) => runPipeline(entries, batchSize, hooks, { o, c, opened, model, done }),
    });
    if (run.poisoned > 0) reporter.info(`${run.poisoned} inputs crashed the process twice and got ERR_INPUT_CRASHED rows`);
    const { summary } = run;
    if (run.stopped) {
      reporter.warn(`stopped by ${c.stop.signal} after ${summary.done} inputs (${summary.ok} ok, ${summary.failed} failed); rows are in ${plan.out}; rerun the same command to resume`);
      return c.stop.exitCode();
    }
    const parquetRows = await writeParquetOutput(plan, {
      changed: summary.done > 0 || resumed.retried > 0, topK: o.topK, model: JSON.stringify({ ...record, id: model }),
      beforeWrite: async () => {
        if (run.lockLost) throw run.lockLost;
        await disposeEngine(); // its memory (onnxruntime's arena) is given back before the file is encoded
      },
    });
    if (c.remote && run.lockLost) throw run.lockLost; // another run holds the output now: the upload is its to make
    const uploaded = c.remote ? await c.remote.upload(plan, record) : [];
    reporter.finish({
      ...summary,
      out: plan.out,
      // The process's peak resident memory (main and worker threads together), for the benchmark.
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      message: summaryLine(plan, summary, parquetRows, file) + (uploaded.length > 0 ? `; uploaded to ${uploaded.join(', ')}` : ''),
    });
    return summary.failed + resumed.failures > 0 ? EXIT.partialFailure : EXIT.ok;
  } finally {
    await inFlight.close();
    await disposeEngine();
  }
}

/** Counts the inputs beside the run, streaming too, so that the ETA appears once it is known. */
function countInputsBeside(inputs: readonly string[], options: ListOptions, shard: Shard | null, reporter: ProgressReporter): void {
  void (async () => {
    let total = 0;
    for await (const entry of listInputs(inputs, options)) if (inShard(entry.path, shard)) total++;
    reporter.setTotal(total);
  })().catch(() => undefined);
}

/** The decode → batch → engine pipeline over a stream of inputs, with @xception/batch's hooks. */
function runPipeline(entries: AsyncIterable<InputEntry>, batchSize: number, hooks: RunHooks, r: { o: ImagesCommandOptions; c: RunContext; opened: OpenedModel; model: string; done: { has(path: string): boolean; add(path: string): void } }): Promise<RunSummary> {
  const { o, c, opened, model } = r;
  const kind = c.plan.kind;
  return runImagePipeline<ResultRow>({
    inputs: entries,
    done: r.done,
    accept: (path) => inShard(path, c.shard),
    engine: opened.engine,
    batchSize,
    ...(o.decodeThreads ? { decodeConcurrency: o.decodeThreads } : {}),
    imageSize: [opened.imageSize, opened.imageSize],
    image: { resize: o.resize },
    onCounts: (counts) => c.reporter.update(counts),
    onStart: async (path) => {
      await hooks.onStart(path);
      if (process.env.XCEPTION_TEST_CRASH_ON && basename(path) === process.env.XCEPTION_TEST_CRASH_ON) process.kill(process.pid, 'SIGKILL');
    },
    write: (rows) => hooks.write(rows as readonly ResultRow[]),
    toRows: (items, result, inferMs) => {
      const top = kind === 'classify' ? decodeTop(result.output, items.length, opened, o.topK) : null;
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
}

function summaryLine(plan: OutputPlan, summary: RunSummary, parquetRows: number | null, file: ResultsFile | EmbeddingJournal): string {
  const { out, journal } = plan;
  return `${plan.kind === 'classify' ? 'classified' : 'embedded'} ${summary.done} inputs: ${summary.ok} ok, ${summary.failed} failed, ${summary.skipped} already done; ` +
    `${summary.seconds.toFixed(1)} s, ${summary.imagesPerSecond.toFixed(2)} images/s (inference ${summary.inferSeconds.toFixed(1)} s); ` +
    (plan.parquetOut ? `results in ${out}${parquetRows === null ? ' (unchanged)' : ` (${parquetRows} rows)`}, journal ${journal}`
      : file instanceof EmbeddingJournal ? `${file.rowCount} feature rows in ${out} with their paths in ${pathsFileOf(out)}` : `results in ${out}`);
}

/** The engine `--engine` names (onnx when --device cuda), on the CPU when --device says so. */
function openEngine(inputs: readonly string[], o: ImagesCommandOptions, c: RunContext, onWeights: NonNullable<OpenModelOptions['onWeights']>): Promise<OpenedModel> {
  return withDownloadBar((onProgress) => openModel(o.weights, {
    ...(o.precision === 'int8' ? { precision: 'int8' as const, calibration: calibrateOnFirstInputs(inputs, o.recursive, (line) => c.reporter.info(line)) } : {}),
    engine: o.device === 'cuda' ? 'onnx' : o.engine,
    device: o.device === 'cuda' ? 'cuda' : c.device.device === 'cpu' ? 'cpu' : 'auto',
    ...(o.imageSize ? { imageSize: o.imageSize } : {}),
    ...(o.threads ? { threads: o.threads } : {}),
    onProgress,
    onWeights,
    log: (line) => c.reporter.info(line),
  }));
}

/** The flags that say what the inputs are and how URLs are read. */
function listOptions(o: ImagesCommandOptions): ListOptions {
  return {
    recursive: o.recursive,
    inputLists: o.inputList ?? [],
    urls: {
      words: batchFlagWords,
      ...(o.maxInputBytes ? { maxBytes: o.maxInputBytes } : {}),
      ...(o.inputTimeout ? { timeoutMs: o.inputTimeout * 1000 } : {}),
    },
  };
}

const round = (ms: number): number => Math.round(ms * 10) / 10;
