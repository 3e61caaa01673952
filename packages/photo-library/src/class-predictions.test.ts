import { describe, expect, it } from 'vitest';
import { OWN_CLASS_INDEX, predictionsForTags } from './class-predictions.js';
import { sidecarTagsFor } from './hand-edits.js';
import { mergeSidecar, readSidecarState } from './xmp-sidecar.js';

const rules = { threshold: 0.3, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' as const };

describe("a trained model's own classes in the tag rules and sidecars", () => {
  it("class 207 of ImageNet (golden_retriever) is grouped under animal|dog; class 207 of a trained model is its name alone, and reads back from the sidecar", () => {
    const imagenet = predictionsForTags([{ index: 207, wnid: 'n02099601', label: 'golden_retriever', score: 0.9 }]);
    // ImageNet's hierarchy (imagenet-hierarchy.ts) puts 151..268 under animal > dog.
    expect(sidecarTagsFor({ predictions: imagenet, model: 'imagenet', added: [], removed: [] }, rules, 'Xception').modelTags.map((t) => t.path.join('|'))).toEqual(['animal|dog', 'animal|dog|golden retriever']);

    const own = predictionsForTags([{ index: 207, wnid: null, label: 'our garden', score: 0.9 }, { index: 1, wnid: '', label: 'sky', score: 0.05 }]);
    expect(own.map((p) => p.index)).toEqual([OWN_CLASS_INDEX, OWN_CLASS_INDEX]);
    const tags = sidecarTagsFor({ predictions: own, model: 'file:model.keras', added: [], removed: [] }, rules, 'Xception');
    const state = readSidecarState(mergeSidecar(null, tags, 'a.xmp'), 'a.xmp');
    expect(state.hierarchicalSubjects).toEqual(['Xception|our garden']);
    // Read back as written: the app rebuilds its index from sidecars, and `xception tag` skips photos whose sidecar has this model's predictions.
    expect(state.app?.predictions).toEqual([{ index: -1, label: 'our garden', score: 0.9 }, { index: -1, label: 'sky', score: 0.05 }]);
  });
});
