import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { resolveXceptionConfig, type CreateXceptionOptions, type WeightValues } from '@xception/core';
import { decodedWeights, isDeferredWeights, type DeferredWeights } from './engine.js';
import { defaultCacheDir } from '@xception/weights';
import type { ExportJob, ExportReply } from './onnx-export-thread.js';
import { sha256OfFile } from './file-sha256.js';
import { threadEntry, workerSource } from './thread-entry.js';

/** An ONNX model on disk for onnxruntime to load by path (so no JavaScript copy of it stays). */
export interface OnnxModelFile {
  path: string;
  /** For people: 'cached <file>', 'exported, cached at <file>', 'exported (not cached)'. */
  source: string;
  /** True for a file of the cache (it stays; onnxruntime's optimised graph of it may be cached beside it). */
  cached: boolean;
  /** Removes the file when it was a temporary one; call once the session holds the model. */
  release(): void;
}

/**
 * The ONNX model for `model` and `weights` as a file. Real weights are cached in
 * `<cacheDir>/xception-<key>.onnx` (default `<weights cache>/onnx`), keyed by onnxCacheKey, with
 * the SHA-256 of its bytes in `<file>.sha256`: a cached file is read back only when its bytes
 * hash to that (a truncated or corrupted file is discarded and exported again). Weights still in
 * their file (DeferredWeights) are keyed by the file and decoded only to export a model the cache
 * lacks. Keras' seeded
 * random weights (null) are cached too, keyed by their seed: they are a pure function of the
 * configuration and the seed, and each export costs seconds (benchmarks and tests start the
 * CLI with them again and again). `cacheDir: null` exports to a temporary file that release()
 * removes.
 * The export runs in a thread of its own that then exits (see onnx-export-thread.ts).
 */
export async function prepareOnnxModel(model: CreateXceptionOptions, weights: WeightValues | DeferredWeights | null, cacheDir?: string | null): Promise<OnnxModelFile> {
  const dir = cacheDir === undefined ? join(defaultCacheDir(), 'onnx') : cacheDir;
  const temporary = async (why: string): Promise<OnnxModelFile> => {
    const path = join(tmpdir(), `xception-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.onnx`);
    await exportInThread({ model, weights: await decodedWeights(weights), file: path });
    return { path, source: why, cached: false, release: () => rmSync(path, { force: true }) };
  };
  if (dir === null) return temporary('exported (not cached)');
  const file = join(dir, `xception-${onnxCacheKey(model, weights)}.onnx`);
  const sidecar = `${file}.sha256`;
  let note = '';
  if (existsSync(file)) {
    const expected = existsSync(sidecar) ? readFileSync(sidecar, 'utf8').trim() : '';
    if (expected !== '' && expected === (await sha256OfFile(file))) {
      touch(file); // most recently used: pruning keeps it
      return { path: file, source: `cached ${file}`, cached: true, release: () => undefined };
    }
    note = ' (the cached copy did not match its SHA-256 and was replaced)';
  }
  try {
    mkdirSync(dir, { recursive: true });
    rmSync(sidecar, { force: true }); // first: a file without its hash is never trusted
    const { sha256 } = await exportInThread({ model, weights: await decodedWeights(weights), file });
    writeFileSync(`${sidecar}.${process.pid}.partial`, `${sha256}\n`);
    renameSync(`${sidecar}.${process.pid}.partial`, sidecar);
    try {
      pruneOnnxCache(dir);
    } catch {
      // Pruning is housekeeping: the model just exported is there either way.
    }
    return { path: file, source: `exported, cached at ${file}${note}`, cached: true, release: () => undefined };
  } catch {
    rmSync(file, { force: true });
    return temporary('exported (the cache was not writable)');
  }
}

/** How many exported models the cache keeps (~90 MB each): a key changes with the exporter's code, so old ones would pile up. */
export const ONNX_CACHE_KEEP = 8;

/**
 * Removes all but the `keep` most recently used models (by modification time, which a cache hit
 * renews) from an ONNX cache folder, with their .sha256 files and onnxruntime's optimised graphs
 * of them (and optimised graphs whose model is gone). Only this cache's own names are touched;
 * a file being removed while another process loads it stays readable on POSIX.
 */
export function pruneOnnxCache(dir: string, keep: number = ONNX_CACHE_KEEP): string[] {
  const names = readdirSync(dir);
  const models = names
    .filter((name) => /^xception-[0-9a-f]+\.onnx$/.test(name))
    .map((name) => ({ name, used: statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.used - a.used);
  const kept = new Set(models.slice(0, keep).map((m) => m.name));
  const removed = models.slice(keep).map((m) => m.name);
  for (const name of removed) {
    rmSync(join(dir, `${name}.sha256`), { force: true }); // first: a model without its hash is never trusted
    rmSync(join(dir, `${name}.int8.json`), { force: true }); // an int8 model's record (onnx-int8-model-file.ts)
    rmSync(join(dir, name), { force: true });
  }
  for (const name of names) {
    // onnxruntime's optimised graphs (onnx-optimized-model.ts): folders named after their model,
    // removed with it; and what a process killed while writing or removing one left behind.
    const optimised = /^(xception-[0-9a-f]+)\.opt-[0-9a-f]+(\.[\d-]+\.(partial|removed))?$/.exec(name);
    if (!optimised) continue;
    const left = optimised[2] !== undefined && Date.now() - (statSync(join(dir, name), { throwIfNoEntry: false })?.mtimeMs ?? 0) > 600_000;
    if (left || (optimised[2] === undefined && !kept.has(`${optimised[1]}.onnx`))) rmSync(join(dir, name), { recursive: true, force: true });
  }
  return removed;
}

function touch(file: string): void {
  try {
    const now = new Date();
    utimesSync(file, now, now);
  } catch {
    // A read-only cache still serves; it is only pruned less well.
  }
}

function exportInThread(job: ExportJob): Promise<{ sha256: string }> {
  const { source, eval: isEval } = workerSource(threadEntry('onnx-export-thread'));
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, { eval: isEval, workerData: job });
    let reply: ExportReply | null = null;
    worker.once('message', (r: ExportReply) => { reply = r; });
    worker.once('error', reject);
    // Answered once the thread has exited, so that its memory is given back before the session is made.
    worker.once('exit', (code) => {
      const r = reply as ExportReply | null;
      if (!r) reject(new Error(`the ONNX export thread exited (${code}) before it answered`));
      else if (r.ok) resolve(r);
      else reject(new Error(`the ONNX export failed: ${r.error}`));
    });
  });
}

/**
 * What decides the exported bytes: the exporter's own code, the resolved configuration, and every
 * weight (null: Keras' initialisers, which the same code and seed always give alike; weights
 * still in their file: the file's SHA-256 and how it is read, the id DeferredWeights carry, with
 * the reader's code in the fingerprint).
 */
export function onnxCacheKey(model: CreateXceptionOptions, weights: WeightValues | DeferredWeights | null, fingerprint: string = exporterFingerprint()): string {
  const config = resolveXceptionConfig({ ...model, weights: model.weights ?? 'weight-map' });
  const hash = createHash('sha256');
  hash.update(`${fingerprint}\n${JSON.stringify({ ...config, weights: null })}\n`);
  if (weights === null) return hash.update(`keras initial weights, seed ${model.seed ?? 0}\n`).digest('hex').slice(0, 24);
  if (isDeferredWeights(weights)) return hash.update(`weights file ${weights.id}\n`).digest('hex').slice(0, 24);
  for (const name of [...weights.keys()].sort()) {
    const w = weights.get(name)!;
    hash.update(`${name} [${w.shape.join(',')}]\n`);
    hash.update(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength));
  }
  return hash.digest('hex').slice(0, 24);
}

let fingerprint: string | null = null;

/**
 * A SHA-256 over the code that writes the ONNX bytes: the installed @xception/onnx (the
 * exporter), @xception/core (the graph it exports) and @xception/weights (which decodes a
 * weights file, so that a key made from a file's SHA-256 changes with its reader too), every
 * .js/.ts file of their folders but tests and testing helpers. Any change to either gives other cache keys, so a cached model
 * from an older exporter is never loaded; no version string has to be bumped by hand.
 */
export function exporterFingerprint(folders: readonly string[] = exporterFolders()): string {
  if (folders === exporterFoldersCache && fingerprint) return fingerprint;
  const hash = createHash('sha256');
  for (const folder of folders) {
    for (const file of codeFiles(folder)) {
      hash.update(`${file.slice(folder.length)}\n`);
      hash.update(readFileSync(file));
    }
  }
  const digest = hash.digest('hex');
  if (folders === exporterFoldersCache) fingerprint = digest;
  return digest;
}

let exporterFoldersCache: readonly string[] | null = null;

/**
 * The folders the exporter's modules are loaded from (dist when built, src under the source
 * condition). Bundled (the desktop app), the packages are not there to resolve, and their code
 * is in the bundle itself: then the bundle's own file stands for both.
 */
export function exporterFolders(): readonly string[] {
  if (exporterFoldersCache) return exporterFoldersCache;
  const require = createRequire(import.meta.url);
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  try {
    exporterFoldersCache = ['@xception/onnx', '@xception/core', '@xception/weights'].map((name) => {
      try {
        if (resolve) return dirname(fileURLToPath(resolve(name)));
      } catch { /* not resolvable this way: try require's resolution */ }
      return dirname(require.resolve(name));
    });
  } catch {
    exporterFoldersCache = [fileURLToPath(import.meta.url)];
  }
  return exporterFoldersCache;
}

function codeFiles(folder: string): string[] {
  if (statSync(folder).isFile()) return [folder];
  const files: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'testing' && entry.name !== 'test-support' && entry.name !== 'node_modules') files.push(...codeFiles(path));
    } else if (/\.(js|ts|mjs)$/.test(entry.name) && !/\.d\.ts$|\.test\.ts$/.test(entry.name) && statSync(path).isFile()) {
      files.push(path);
    }
  }
  return files.sort();
}
