import { existsSync } from 'node:fs';
import { convertWeights, defaultCacheDir, fetchImagenetWeights, imagenetWeightsPath, verifyWeightsFile, type QuantizeDtype } from '@xception/weights';
import { EXIT } from '../cli-error.js';

export async function weightsFetch(o: { top: boolean; cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const path = await fetchImagenetWeights({ includeTop: o.top, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
  log(path);
  return EXIT.ok;
}

export async function weightsPath(o: { top: boolean; cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const path = imagenetWeightsPath({ includeTop: o.top, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
  log(path);
  return existsSync(path) ? EXIT.ok : EXIT.error;
}

export async function weightsVerify(files: readonly string[], o: { cacheDir?: string }, log: (line: string) => void): Promise<number> {
  const targets = files.length > 0
    ? files
    : [true, false].map((top) => imagenetWeightsPath({ includeTop: top, ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) })).filter((p) => existsSync(p));
  if (targets.length === 0) {
    log(`no ImageNet weights in the cache (${o.cacheDir ?? defaultCacheDir()}); run 'xception weights fetch' or give files to verify`);
    return EXIT.error;
  }
  let status: number = EXIT.ok;
  for (const file of targets) {
    const v = await verifyWeightsFile(file);
    log(`${v.ok ? 'ok' : 'BAD'} ${file}: ${v.bytes} bytes, md5 ${v.md5}, sha256 ${v.sha256}${v.problems.length ? ` (${v.problems.join('; ')})` : ''}`);
    if (!v.ok) status = EXIT.error;
  }
  return status;
}

export async function weightsConvert(input: string, outDir: string, o: { quantize?: QuantizeDtype; top?: boolean }, log: (line: string) => void): Promise<number> {
  const report = await convertWeights({ input, outDir, quantize: o.quantize ?? null, checkOutputs: true, ...(o.top === undefined ? {} : { includeTop: o.top }) });
  log(`wrote ${report.modelJson} and ${report.shards.length} shards (${(report.weightBytes / 1e6).toFixed(1)} MB, ${report.quantize ?? 'float32'})`);
  log(`largest weight error ${report.maxAbsError.toExponential(2)}${report.maxAbsErrorWeight ? ` (${report.maxAbsErrorWeight})` : ''}; ` +
    `largest output difference on a test image ${report.maxAbsOutputDiff === null ? 'not measured' : report.maxAbsOutputDiff.toExponential(2)}`);
  return EXIT.ok;
}

