import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { defaultCacheDir } from './cache-dir.js';
import { downloadFile } from './download.js';
import { WeightsFileError } from './errors.js';
import { IMAGENET_REGISTRY, type WeightsRegistry } from './imagenet-registry.js';
import { fetchImagenetWeights } from './imagenet-weights.js';
import { isKerasArchivePath, readKerasArchive, type KerasArchiveReading } from './keras-archive.js';
import { readKerasH5, type ReadWeightsOptions, type XceptionWeightsReading } from './keras-h5.js';
import { progressReporter, type ProgressCallback } from './progress.js';
import { readTfjsArtifacts } from './tfjs-artifacts-reader.js';

export type WeightsFormat = 'keras-h5' | 'tfjs-layers' | 'keras';

export interface ResolvedWeightsSource {
  format: WeightsFormat;
  /** A local path (a .keras or .h5 file, or a model.json), or the model.json URL of remote artifacts. */
  location: string;
}

export interface ResolveSourceOptions {
  /** For 'imagenet': which file. Default true. */
  includeTop?: boolean;
  cacheDir?: string;
  onProgress?: ProgressCallback;
  registry?: WeightsRegistry;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where weights are and in which format: 'imagenet' (fetched into the cache), a Keras 3 .keras
 * archive, an .h5 file (Keras 2 or 3, .weights.h5 included), a model.json, a directory holding
 * one of them, or an http(s) URL (a model.json is read in place; a .keras or .h5 is downloaded
 * into the cache under a name derived from its URL).
 */
export async function resolveWeightsSource(source: string | URL, options: ResolveSourceOptions = {}): Promise<ResolvedWeightsSource> {
  if (source === 'imagenet') {
    return { format: 'keras-h5', location: await fetchImagenetWeights(options) };
  }
  const text = String(source instanceof URL ? source.href : source);
  if (/^https?:\/\//i.test(text)) {
    const url = new URL(text);
    if (/\.json$/i.test(url.pathname)) return { format: 'tfjs-layers', location: url.href };
    return { format: isKerasArchivePath(url.pathname) ? 'keras' : 'keras-h5', location: await downloadUrl(url, options) };
  }
  const info = await stat(text).catch(() => null);
  if (!info) {
    throw new WeightsFileError('ERR_WEIGHTS_NOT_FOUND', `The weights file ${text} does not exist; pass 'imagenet', null, or the path of a Keras .keras or .h5 file or a tfjs model.json.`, { path: text });
  }
  if (info.isDirectory()) {
    const entries = await readdir(text);
    if (entries.includes('model.json')) return { format: 'tfjs-layers', location: join(text, 'model.json') };
    const h5 = entries.filter((e) => /\.(h5|hdf5|keras)$/i.test(e));
    if (h5.length === 1) return { format: isKerasArchivePath(h5[0]!) ? 'keras' : 'keras-h5', location: join(text, h5[0]!) };
    throw new WeightsFileError(
      'ERR_WEIGHTS_NOT_FOUND',
      h5.length === 0
        ? `The directory ${text} holds neither a model.json nor a .keras or .h5 file; pass the weights file itself.`
        : `The directory ${text} holds ${h5.length} weights files (${h5.join(', ')}); pass the one to load.`,
      { path: text },
    );
  }
  return { format: /\.json$/i.test(text) ? 'tfjs-layers' : isKerasArchivePath(text) ? 'keras' : 'keras-h5', location: text };
}

async function downloadUrl(url: URL, options: ResolveSourceOptions): Promise<string> {
  const registry = options.registry ?? IMAGENET_REGISTRY;
  const known = registry.files.find((f) => f.urls.includes(url.href));
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const name = known ? known.fileName : `${createHash('sha256').update(url.href).digest('hex').slice(0, 16)}-${basename(url.pathname) || 'weights.h5'}`;
  const dest = join(cacheDir, known ? '' : 'downloads', name);
  if (await stat(dest).then(() => true, () => false)) return dest;
  const progress = progressReporter(options.onProgress);
  try {
    await downloadFile({
      urls: [url.href],
      dest,
      ...(known ? { expected: { bytes: known.bytes, md5: known.md5, sha256: known.sha256 } } : {}),
      onProgress: progress.report,
      manualHint: `download ${url.href} elsewhere and pass its local path as weights`,
      ...(options.env ? { env: options.env } : {}),
    });
  } finally {
    progress.stop();
  }
  return dest;
}

/**
 * Reads weights from any source resolveWeightsSource() accepts, under Xception's names. A .keras
 * archive's reading also carries the options it was saved with and its class names.
 */
export async function readWeights(source: string | URL, options: ResolveSourceOptions & ReadWeightsOptions = {}): Promise<XceptionWeightsReading | KerasArchiveReading> {
  const resolved = await resolveWeightsSource(source, options);
  const read: ReadWeightsOptions & { env?: NodeJS.ProcessEnv } = {
    ...(options.env ? { env: options.env } : {}),
    ...(options.includeTop === undefined ? {} : { includeTop: options.includeTop }),
    ...(options.classes === undefined ? {} : { classes: options.classes }),
  };
  options.onProgress?.({ phase: 'read', bytes: 0, totalBytes: null, target: resolved.location });
  if (resolved.format === 'keras') return readKerasArchive(resolved.location, read);
  return resolved.format === 'keras-h5' ? readKerasH5(resolved.location, read) : readTfjsArtifacts(resolved.location, read);
}
