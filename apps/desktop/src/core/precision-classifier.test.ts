import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type PrecisionStatus, type Settings } from '../shared/api.js';
import type { Classification, Classifier } from './classifier.js';
import { classifierWithPrecision } from './precision-classifier.js';

/** A stand-in inner classifier that records what classifyBatch was given. */
function recordingClassifier(calls: unknown[][]): Classifier {
  const result = (): Classification => ({ predictions: [], features: new Float32Array(0) });
  return {
    modelId: 'stand-in',
    load: async () => undefined,
    classify: async () => result(),
    classifyBatch: async (...args) => {
      calls.push(args);
      return args[0].map(result);
    },
    int8Note: () => 'int8: stand-in',
    dispose: async () => undefined,
  };
}

describe('classifierWithPrecision (stand-in inner classifier)', () => {
  it("passes classifyBatch's next and thumbnails through to the int8 classifier underneath", async () => {
    const calls: unknown[][] = [];
    const reports: PrecisionStatus[] = [];
    const settings: Settings = { ...DEFAULT_SETTINGS, precision: 'int8' };
    const classifier = await classifierWithPrecision(settings, async () => recordingClassifier(calls), (status) => reports.push(status));
    expect(classifier.classifyBatch).toBeUndefined();
    await classifier.load();
    await classifier.classifyBatch!(['a.jpg', 'b.jpg'], 5, ['c.jpg'], ['b.jpg']);
    expect(calls).toEqual([[['a.jpg', 'b.jpg'], 5, ['c.jpg'], ['b.jpg']]]);
    expect(reports).toEqual([{ running: 'int8', note: 'int8: stand-in' }]);
  });
});
