import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Prediction } from '../../shared/api.js';
import type { Classification, Classifier } from '../classifier.js';

export interface StandInOptions {
  /** Predictions per file name; files not listed get a hash-derived class. */
  answers?: ReadonlyMap<string, Prediction[]>;
  /** File names that make classify() throw (a damaged photo). */
  failOn?: ReadonlySet<string>;
  /** Delay per photo, to test pause and cancel mid-run. */
  delayMs?: number;
  modelId?: string;
  /** Throw from load() (offline and no weights). */
  loadError?: Error;
}

/**
 * A classifier for tests: reads every photo in full through a read-only handle (as the real
 * decoder does), then answers from a table instead of running Xception, which takes ~0.4 s a
 * photo here. Features are a 2048-d vector derived from the first prediction's class, so that
 * photos of the same class are each other's nearest neighbours.
 */
export function createStandInClassifier(options: StandInOptions = {}): Classifier & { classified: string[]; opened: string[] } {
  const classified: string[] = [];
  const opened: string[] = [];
  return {
    modelId: options.modelId ?? 'stand-in',
    classified,
    opened,
    async load(onProgress) {
      onProgress?.({ loaded: 1, total: 1 });
      if (options.loadError) throw options.loadError;
    },
    async classify(photo, topK) {
      const handle = await open(photo, 'r');
      opened.push(photo);
      let bytes: Buffer;
      try {
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      const name = photo.split(/[\\/]/).pop()!;
      if (options.failOn?.has(name)) throw new Error('not a JPEG file: starts with 0x00 0x00');
      const digest = createHash('sha256').update(bytes).digest();
      const predictions = options.answers?.get(name) ?? [{ index: digest[0]! * 3 + (digest[1]! % 3), label: `class_${digest[0]! * 3}`, score: 0.6 }];
      classified.push(photo);
      return { predictions: predictions.slice(0, topK), features: featuresFor(predictions[0]!.index, digest) } satisfies Classification;
    },
    async dispose() {},
  };
}

export function featuresFor(classIndex: number, digest: Uint8Array): Float32Array {
  const features = new Float32Array(2048);
  features[classIndex] = 10;
  for (let i = 0; i < 16; i++) features[1000 + i] = digest[i]! / 255;
  return features;
}
