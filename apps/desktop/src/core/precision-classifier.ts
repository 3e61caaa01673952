import type { PrecisionStatus, Settings } from '../shared/api.js';
import type { Classifier } from './classifier.js';
import { messageOf } from './errors.js';

/** int8 calibrates on this many of the library's photos (the first, by path) when no calibrated model is cached, as `xception --precision int8` does on its inputs. */
export const CALIBRATE_ON_FIRST = 64;

/** The errors after which tagging goes on in fp32: int8 refused by its agreement check, or unable to run here. */
const FALLBACK_CODES = new Set(['ERR_PRECISION_REFUSED', 'ERR_PRECISION_UNAVAILABLE']);

/** The photos int8 calibrates on: the library's first CALIBRATE_ON_FIRST by path (the order `xception` lists a folder in), skipping photos that failed. */
export function calibrationPhotosOf(records: Iterable<{ id: string; status: string }>): string[] {
  const usable: string[] = [];
  for (const record of records) if (record.status !== 'error') usable.push(record.id);
  return usable.sort().slice(0, CALIBRATE_ON_FIRST);
}

/**
 * The classifier for the settings. In fp32, `create`'s own. With precision 'int8' it loads the
 * int8 model; when that is refused (ERR_PRECISION_REFUSED) or cannot run (ERR_PRECISION_UNAVAILABLE),
 * it loads the same weights in fp32 instead, so that tagging goes on, and `report` says why;
 * `report` also gets the int8 model's one line when it loads.
 */
export async function classifierWithPrecision(settings: Settings, create: (settings: Settings) => Promise<Classifier>, report: (status: PrecisionStatus) => void): Promise<Classifier> {
  if (settings.precision !== 'int8') return create(settings);
  let inner: Classifier | null = null;
  const loaded = (): Classifier => {
    if (!inner) throw new Error('The model is not loaded; call load() first.');
    return inner;
  };
  return {
    // The weights' id, the same in both precisions (sidecars record the weights).
    get modelId() {
      return inner?.modelId ?? 'not loaded';
    },
    // Batches where the classifier underneath has them (the renderer's webgl one runs photo by photo).
    get classifyBatch() {
      const c = inner;
      return c?.classifyBatch ? (photos: readonly string[], topK: number, next?: readonly string[], thumbnails?: readonly string[]) => c.classifyBatch!(photos, topK, next, thumbnails) : undefined;
    },
    async load(onProgress) {
      if (inner) return;
      try {
        inner = await loadedClassifier(create, settings, onProgress);
        report({ running: 'int8', note: inner.int8Note?.() ?? 'int8' });
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code !== 'string' || !FALLBACK_CODES.has(code)) throw error;
        inner = await loadedClassifier(create, { ...settings, precision: 'fp32' }, onProgress);
        report({ running: 'fp32', note: `fp32: int8 was not used (${code}); see the precision setting`, error: { code, message: `${messageOf(error)} Tagging goes on in fp32.` } });
      }
    },
    classify: (photo, topK) => loaded().classify(photo, topK),
    async dispose() {
      const old = inner;
      inner = null;
      await old?.dispose();
    },
  };
}

/** `create`'s classifier for these settings, loaded; disposed again when its load fails. */
async function loadedClassifier(create: (settings: Settings) => Promise<Classifier>, settings: Settings, onProgress: Parameters<Classifier['load']>[0]): Promise<Classifier> {
  const classifier = await create(settings);
  try {
    await classifier.load(onProgress);
  } catch (error) {
    await classifier.dispose().catch(() => undefined);
    throw error;
  }
  return classifier;
}
