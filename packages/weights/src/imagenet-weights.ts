import { stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { imagenetWeightsPath } from './cache-dir.js';
import { downloadFile } from './download.js';
import { hashFile } from './file-hashes.js';
import { IMAGENET_REGISTRY, imagenetEntry, type WeightsRegistry, type WeightsRegistryEntry } from './imagenet-registry.js';
import { progressReporter, type ProgressCallback } from './progress.js';

export interface FetchImagenetOptions {
  /** The file with the 1000-class top (default) or the notop file. */
  includeTop?: boolean;
  /** Default defaultCacheDir(): $XCEPTION_HOME or the user's cache directory. */
  cacheDir?: string;
  onProgress?: ProgressCallback;
  /** Another registry (tests point it at a local server; mirrors can be added). */
  registry?: WeightsRegistry;
  /** Environment for the proxy settings (default process.env). */
  env?: NodeJS.ProcessEnv;
  idleTimeoutMs?: number;
}

export interface WeightsVerification {
  path: string;
  ok: boolean;
  entry: WeightsRegistryEntry | null;
  bytes: number;
  md5: string;
  sha256: string;
  /** Each mismatch in words; empty when ok. */
  problems: string[];
}

/**
 * The cached ImageNet file's path, downloading it first when it is not there (or is not intact):
 * Keras' address, then the mirrors, with size and md5 checked before the file is kept. A
 * `<file>.json` beside it records the size, md5 and sha256 measured on download.
 */
export async function fetchImagenetWeights(options: FetchImagenetOptions = {}): Promise<string> {
  const registry = options.registry ?? IMAGENET_REGISTRY;
  const entry = imagenetEntry(options.includeTop ?? true, registry);
  const dest = imagenetWeightsPath({ includeTop: entry.includeTop, registry, ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}) });
  const progress = progressReporter(options.onProgress);
  try {
    const present = await stat(dest).then((s) => s.size, () => null);
    let rejected: string | null = null;
    if (present !== null) {
      progress.report({ phase: 'verify', bytes: 0, totalBytes: present, target: dest });
      const check = await verifyWeightsFile(dest, { registry });
      if (check.ok) return dest;
      // A damaged cached file is replaced, never trusted.
      rejected = check.problems.join(', ');
    }
    const result = await downloadFile({
      urls: entry.urls,
      dest,
      expected: { bytes: entry.bytes, md5: entry.md5, sha256: entry.sha256 },
      onProgress: progress.report,
      manualHint: manualHint(entry, dest) + (rejected ? ` (the file already there does not match: ${rejected})` : ''),
      ...(options.env ? { env: options.env } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
    await writeFile(`${dest}.json`, JSON.stringify({ fileName: entry.fileName, url: result.url, bytes: result.bytes, md5: result.md5, sha256: result.sha256, downloadedAt: new Date().toISOString() }, null, 2)).catch(() => undefined);
    return dest;
  } finally {
    progress.stop();
  }
}

/** Where to put the file by hand, said the same way in every download error. */
export function manualHint(entry: WeightsRegistryEntry, dest: string): string {
  return `to work offline, download ${entry.urls[0]} (${entry.bytes} bytes, md5 ${entry.md5}) elsewhere and copy it to ${dest}, or pass weights: '/path/to/${entry.fileName}' (set XCEPTION_HOME to move the cache)`;
}

/** Size, md5 and sha256 of a file against the registry entry with its file name (or size). */
export async function verifyWeightsFile(path: string, options: { registry?: WeightsRegistry } = {}): Promise<WeightsVerification> {
  const registry = options.registry ?? IMAGENET_REGISTRY;
  const hashes = await hashFile(path);
  const entry = registry.files.find((f) => f.fileName === basename(path)) ?? registry.files.find((f) => f.md5 === hashes.md5) ?? null;
  const problems: string[] = [];
  if (!entry) problems.push(`${basename(path)} is not in the weights registry (no entry with its name or md5)`);
  else {
    if (hashes.bytes !== entry.bytes) problems.push(`size is ${hashes.bytes} bytes, expected ${entry.bytes}`);
    if (hashes.md5 !== entry.md5) problems.push(`md5 is ${hashes.md5}, expected ${entry.md5}`);
    if (entry.sha256 && hashes.sha256 !== entry.sha256) problems.push(`sha256 is ${hashes.sha256}, expected ${entry.sha256}`);
  }
  return { path, ok: problems.length === 0, entry, ...hashes, problems };
}
