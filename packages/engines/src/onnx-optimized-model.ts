import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { sha256OfFile } from './file-sha256.js';

/**
 * onnxruntime's optimised graph of a cached model, cached beside it.
 *
 * Creating a session optimises the graph (level 'all': constant folding, Conv + activation
 * fusion, the NCHWc layout with its reordered weights) and parses the ~90 MB protobuf, which
 * together cost more CPU than a short run's inference. A session can write the graph it made
 * (`optimizedModelFilePath`); written with the weights in a file of their own ("external
 * initializers"), a later session loads it with optimisation off and maps the weights rather than
 * parsing them: measured 0.12–0.17 s of CPU against 1.3–1.7 s for the plain model at level
 * 'all', with outputs bit-identical (packages/engines/src/onnx-engine.test.ts checks both).
 *
 * Level 'all' may choose kernels and layouts for this CPU (onnxruntime warns that such a file is
 * "only for the same environment the model was optimized in"), so the folder is keyed on
 * onnxruntime's version, the level, the platform and the CPU (vendor, model and instruction-set
 * flags). It is a folder, `<model>.opt-<key>/` with `model.onnx`, `model.onnx.data` (the name the
 * graph refers to) and `sha256` (both files' hashes), written under a temporary name and renamed
 * into place whole. Both hashes are checked before each load; a folder that does not match, or
 * that onnxruntime refuses, is removed and the plain model is loaded (and optimised again).
 * The engine's `detail` does not change: which graph a session got is createOnnxSession's answer.
 */
export interface OptimizedModelCache {
  /** The folder of this environment's optimised graph (it may not exist yet). */
  dir: string;
  /** The graph inside it, what onnxruntime loads. */
  graph: string;
  /** What the key was made of, for people and tests. */
  environment: string;
}

const GRAPH = 'model.onnx';
const DATA = 'model.onnx.data';
const HASHES = 'sha256';

/** The optimised-graph folder of the cached model `modelPath` for this onnxruntime, level and CPU. */
export function optimizedModelCache(modelPath: string, ortVersion: string, level: string): OptimizedModelCache {
  const environment = `onnxruntime-node ${ortVersion}; graph optimisation ${level}; ${platform()} ${arch()}; ${cpuIdentity()}`;
  const key = createHash('sha256').update(environment).digest('hex').slice(0, 16);
  const dir = join(dirname(modelPath), `${basename(modelPath, '.onnx')}.opt-${key}`);
  return { dir, graph: join(dir, GRAPH), environment };
}

/** True when the folder holds both files and they hash to its `sha256` file; a folder that does not is removed. */
export async function haveOptimizedModel(cache: OptimizedModelCache): Promise<boolean> {
  if (!existsSync(cache.dir)) return false;
  let expected = '';
  try {
    expected = readFileSync(join(cache.dir, HASHES), 'utf8');
  } catch {
    // No hashes: never trusted.
  }
  if (expected !== '' && expected === (await hashesOf(cache.dir))) return true;
  discardOptimizedModel(cache.dir);
  return false;
}

/** A fresh folder for a session to write the optimised graph into (`optimizedModelFilePath` and its session options). */
export function startOptimizedModel(cache: OptimizedModelCache): { dir: string; sessionOptions: { optimizedModelFilePath: string; extra: { session: Record<string, string> } } } {
  const dir = `${cache.dir}.${uniqueSuffix()}.partial`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true }); // onnxruntime writes into it, and makes no folders
  return {
    dir,
    sessionOptions: {
      optimizedModelFilePath: join(dir, GRAPH),
      extra: {
        session: {
          // Every initialiser in model.onnx.data, which onnxruntime maps instead of parsing.
          optimized_model_external_initializers_file_name: DATA,
          optimized_model_external_initializers_min_size_in_bytes: '0',
        },
      },
    },
  };
}

/**
 * Moves a freshly written folder into place with the hashes of its files. The rename is the
 * commit: a reader sees no folder or a whole one. When another process got there first, its
 * folder stays and this one is dropped.
 */
export async function commitOptimizedModel(partialDir: string, cache: OptimizedModelCache): Promise<boolean> {
  try {
    if (!existsSync(join(partialDir, GRAPH)) || !existsSync(join(partialDir, DATA))) return false;
    const hashes = await hashesOf(partialDir);
    if (hashes === '') return false;
    writeFileSync(join(partialDir, HASHES), hashes);
    renameSync(partialDir, cache.dir);
    return true;
  } catch {
    return false; // another process's folder is there, or the cache is not writable: the next start optimises again
  } finally {
    rmSync(partialDir, { recursive: true, force: true });
  }
}

/** Removes an optimised-graph folder (renamed aside first, so that no reader sees it half removed). */
export function discardOptimizedModel(dir: string): void {
  const aside = `${dir}.${uniqueSuffix()}.removed`;
  try {
    renameSync(dir, aside);
  } catch {
    return; // gone already
  }
  rmSync(aside, { recursive: true, force: true });
}

let made = 0;
/** Process, thread and a count: two sessions of one thread (two classifiers loading at once) never share a folder. */
const uniqueSuffix = (): string => `${process.pid}-${threadId}-${++made}`;

async function hashesOf(dir: string): Promise<string> {
  const [graph, data] = await Promise.all([sha256OfFile(join(dir, GRAPH)), sha256OfFile(join(dir, DATA))]);
  return graph === '' || data === '' ? '' : `${graph}  ${GRAPH}\n${data}  ${DATA}\n`;
}

/** The CPU as the optimiser sees it: vendor, model name and instruction-set flags (Linux), else the model name. */
function cpuIdentity(): string {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string): string => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
    const identity = [field('vendor_id'), field('model name'), field('flags') || field('Features')].filter(Boolean).join('; ');
    if (identity !== '') return identity;
  } catch {
    // Not Linux: the model name has to do.
  }
  return cpus()[0]?.model ?? 'unknown cpu';
}
