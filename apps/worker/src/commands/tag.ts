import { stat, utimes } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  planPhotoSidecar,
  predictionsForTags,
  readPhotoSidecar,
  removeStaleTempFiles,
  readSidecarState,
  scanFolder,
  sidecarTagsFor,
  writePhotoSidecarWithState,
  type Prediction,
} from '@xception/photo-library';
import { decodeTop } from '../class-names.js';
import { CliError, EXIT } from '../cli-error.js';
import type { EngineChoice } from '@xception/engines';
import { checkImageSize, modelIdOf, openModel, runImagePipeline, type Precision } from '@xception/runtime';
import { calibrateOnFirstInputs } from '../int8-calibration.js';
import { withDownloadBar } from '../download-bar.js';
import { type InputEntry, PathSet, type ResultRow } from '@xception/batch';
import { createProgressReporter, type LogFormat, type ProgressReporter } from '../progress-reporter.js';
import { loadTagRules, type TagRules } from './tag-rules-file.js';

export interface TagOptions {
  threshold?: number;
  rules?: string;
  weights: string;
  engine: EngineChoice;
  threads?: number;
  batchSize: number;
  /** --image-size; absent: the weights' saved size, else 299. */
  imageSize?: number;
  resize: 'squash' | 'center-crop';
  /** fp32 (default) or int8 (calibrated on the first photos to classify when no int8 model is cached). */
  precision?: Precision;
  dryRun: boolean;
  quiet: boolean;
  logFormat: LogFormat;
}

interface TagCounts {
  photos: number;
  classified: number;
  /** Photos whose sidecar already holds this model's predictions: the rules are applied again, no inference. */
  fromSidecar: number;
  written: number;
  unchanged: number;
  failed: number;
}

/** What one tag run shares between its steps: the options, rules, model id, counts and output. */
interface TagRun {
  o: TagOptions;
  rules: TagRules;
  model: string;
  reporter: ProgressReporter;
  counts: TagCounts;
  print: (line: string) => void;
  /**
   * Photos modified after their sidecar was written: classified again; when that changes
   * nothing in the sidecar, its mtime is moved on (no byte rewritten) so the next run skips it.
   */
  modified: Set<string>;
  fail(path: string, error: unknown): void;
}

/**
 * `xception tag <folders...>`: writes the XMP sidecars the desktop app writes, through the
 * same photo library (scan, tag rules, hand edits, merge, atomic write). Photos whose sidecar
 * already records this model, and that were not modified after it, are not classified again
 * (a rerun after kill -9 picks up where it stopped; a rerun over an unchanged library writes
 * nothing). Photos are only ever read.
 */
export async function tagCommand(folders: readonly string[], o: TagOptions, print: (line: string) => void): Promise<number> {
  if (folders.length === 0) throw new CliError('ERR_USAGE', 'Nothing to tag: give one or more folders of photos.', EXIT.usage);
  checkImageSize(o.weights, o.imageSize);
  for (const folder of folders) {
    const info = await stat(folder).catch(() => null);
    if (!info?.isDirectory()) throw new CliError('ERR_USAGE', `${folder} is not a folder; xception tag takes folders of photos (and walks them recursively).`, EXIT.usage);
  }
  const reporter = createProgressReporter({ quiet: o.quiet, format: o.logFormat });
  const counts: TagCounts = { photos: 0, classified: 0, fromSidecar: 0, written: 0, unchanged: 0, failed: 0 };
  const run: TagRun = {
    o, reporter, counts, print, modified: new Set(),
    rules: await loadTagRules(o.rules, o.threshold),
    // The id the desktop app records too (a file's carries its hash: a retrained model.keras is another model).
    model: await modelIdOf(o.weights),
    fail: (path, error) => {
      counts.failed++;
      reporter.info(`failed: ${path}: ${error instanceof Error ? error.message : String(error)}`);
    },
  };
  const started = performance.now();
  const { toClassify, folderSet } = await applyRecorded(run, folders);
  if (!o.dryRun) {
    // A run killed mid-write (kill -9) may have left a dot-named temp sidecar behind.
    let stale = 0;
    for (const dir of folderSet) stale += await removeStaleTempFiles(dir);
    if (stale > 0) reporter.info(`removed ${stale} temp files an interrupted run left behind`);
  }
  if (counts.fromSidecar > 0) reporter.info(`${counts.fromSidecar} photos already carry ${run.model} predictions in their sidecars: rules applied again, no inference`);
  if (toClassify.length > 0) await classifyAndApply(run, toClassify);
  const seconds = (performance.now() - started) / 1000;
  const verb = o.dryRun ? 'would write' : 'wrote';
  reporter.finish({
    ...counts,
    dryRun: o.dryRun,
    seconds,
    photosPerSecond: counts.photos / Math.max(seconds, 1e-9),
    message: `tagged ${counts.photos} photos: ${counts.classified} classified, ${counts.fromSidecar} from their sidecars; ${verb} ${counts.written} sidecars, ${counts.unchanged} unchanged, ${counts.failed} failed; ` +
      `${seconds.toFixed(1)} s, ${(counts.photos / Math.max(seconds, 1e-9)).toFixed(2)} photos/s`,
  });
  return counts.failed > 0 ? EXIT.partialFailure : EXIT.ok;
}

/** Merges a photo's tags into its sidecar (re-read now, so hand edits made meanwhile count). */
async function applyTags(run: TagRun, photo: string, predictions: readonly Prediction[]): Promise<void> {
  const { counts, rules } = run;
  try {
    const app = (await readPhotoSidecar(photo))?.app ?? null;
    const tags = sidecarTagsFor({ predictions, model: run.model, added: app?.userTags ?? [], removed: app?.removedTags ?? [] }, rules, rules.hierarchyRoot);
    if (run.o.dryRun) {
      const plan = await planPhotoSidecar(photo, tags);
      if (plan.changed) {
        counts.written++;
        run.print(`would write ${plan.path}: ${describeChange(plan.before, plan.after, plan.path)}`);
      } else counts.unchanged++;
      return;
    }
    const { written, path } = await writePhotoSidecarWithState(photo, tags);
    if (written) counts.written++;
    else counts.unchanged++;
    if (!written && run.modified.has(photo)) await utimes(path, new Date(), new Date());
  } catch (error) {
    run.fail(photo, error);
  }
}

/**
 * Scans the folders: a photo whose sidecar already holds this model's predictions (and was not
 * modified since) gets the rules applied again without inference; the others are to classify.
 */
async function applyRecorded(run: TagRun, folders: readonly string[]): Promise<{ toClassify: string[]; folderSet: Set<string> }> {
  const seen = new Set<string>();
  const folderSet = new Set<string>();
  const toClassify: string[] = [];
  for (const folder of folders) {
    for (const photo of await scanFolder(resolve(folder), { onProblem: run.fail })) {
      if (seen.has(photo.path)) continue; // a folder given twice, or inside another one given
      seen.add(photo.path);
      folderSet.add(dirname(photo.path));
      run.counts.photos++;
      let recorded: readonly Prediction[] | null = null;
      try {
        const sidecar = await readPhotoSidecar(photo.path);
        const app = sidecar?.app;
        if (app && app.model === run.model && app.predictions.length > 0) {
          if (photo.mtimeMs > (await stat(sidecar.path)).mtimeMs) run.modified.add(photo.path);
          else recorded = app.predictions.slice(0, run.rules.topK);
        }
      } catch (error) {
        // An unreadable sidecar is reported and left untouched; the photo is not classified.
        run.fail(photo.path, error);
        continue;
      }
      if (recorded) {
        run.counts.fromSidecar++;
        await applyTags(run, photo.path, recorded);
      } else toClassify.push(photo.path);
    }
  }
  return { toClassify, folderSet };
}

/** Opens the model and runs the photos through the pipeline, applying each one's tags as its batch finishes. */
async function classifyAndApply(run: TagRun, toClassify: readonly string[]): Promise<void> {
  const { o, reporter } = run;
  const opened = await withDownloadBar((onProgress) => openModel(o.weights, {
    ...(o.precision === 'int8' ? { precision: 'int8' as const, calibration: calibrateOnFirstInputs(toClassify, false, (line) => reporter.info(line)) } : {}),
    engine: o.engine, ...(o.imageSize ? { imageSize: o.imageSize } : {}), ...(o.threads ? { threads: o.threads } : {}), onProgress, log: (line) => reporter.info(line),
  }));
  const { engine, imageSize } = opened;
  reporter.info(`engine: ${engine.detail}; batch size ${o.batchSize}; ${toClassify.length} photos to classify`);
  reporter.setTotal(toClassify.length);
  try {
    await runImagePipeline<ResultRow>({
      inputs: listingOf(toClassify),
      done: new PathSet(),
      engine,
      batchSize: o.batchSize,
      imageSize: [imageSize, imageSize],
      image: { resize: o.resize },
      onCounts: (counts) => reporter.update(counts),
      toRows: (items, result) => {
        const top = decodeTop(result.output, items.length, opened, run.rules.topK);
        return items.map((item, i): ResultRow => ({ path: item.path, top: top[i]!.map((p) => ({ index: p.index, wnid: p.wnid, label: p.label, score: p.score })) }));
      },
      write: async (rows: readonly ResultRow[]) => {
        for (const row of rows) {
          if (row.error) {
            run.fail(row.path, new Error(row.error.message));
            continue;
          }
          run.counts.classified++;
          // ImageNet's hierarchy groups ImageNet's classes; a trained model's classes stand alone (as in the desktop app).
          await applyTags(run, row.path, predictionsForTags(row.top!));
        }
      },
    });
  } finally {
    await engine.dispose();
  }
}

async function* listingOf(paths: readonly string[]): AsyncGenerator<InputEntry> {
  for (const path of paths) yield { path, ok: true };
}

/** `+ added, keywords; - removed` for a dry run, from dc:subject before and after. */
function describeChange(before: string | null, after: string, path: string): string {
  const old = new Set(before === null ? [] : readSidecarState(before, path).subjects);
  const now = new Set(readSidecarState(after, path).subjects);
  const added = [...now].filter((k) => !old.has(k));
  const removed = [...old].filter((k) => !now.has(k));
  const parts = [added.length > 0 ? `+ ${added.join(', ')}` : '', removed.length > 0 ? `- ${removed.join(', ')}` : ''].filter(Boolean);
  return parts.length > 0 ? parts.join('; ') : before === null ? 'new sidecar, no keywords' : 'keywords unchanged, predictions updated';
}
