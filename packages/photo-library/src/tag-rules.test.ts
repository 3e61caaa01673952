import { readFileSync } from 'node:fs';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { describe, expect, it } from 'vitest';
import { groupPathOf, IMAGENET_GROUPS } from './imagenet-hierarchy.js';
import { effectiveTags, modelTagsFrom, tagNameOf } from './tag-rules.js';
import type { TagRuleSettings } from './types.js';

const rules: TagRuleSettings = { threshold: 0.2, ignoreLabels: [], renames: {}, mergeMode: 'hierarchy' };

describe('tag rules', () => {
  it('merges dog breeds into "dog", keeping the breed below it, and sums the group score', () => {
    const tags = modelTagsFrom(
      [
        { index: 207, label: 'golden_retriever', score: 0.15 },
        { index: 208, label: 'Labrador_retriever', score: 0.12 },
        { index: 973, label: 'coral_reef', score: 0.05 },
      ],
      rules,
    );
    // Neither breed passes 0.2 on its own; together they make a 0.27 dog.
    expect(tags).toEqual([{ name: 'dog', path: ['animal', 'dog'], score: 0.27, source: 'model' }]);
  });

  it('keeps the breed as a child tag when it passes the threshold', () => {
    const tags = modelTagsFrom([{ index: 207, label: 'golden_retriever', score: 0.8 }], rules);
    expect(tags.map((t) => [t.name, t.path.join('|')])).toEqual([
      ['dog', 'animal|dog'],
      ['golden retriever', 'animal|dog|golden retriever'],
    ]);
  });

  it('writes only the group in group-only mode and only the label in none mode', () => {
    const p = [{ index: 281, label: 'tabby', score: 0.9 }];
    expect(modelTagsFrom(p, { ...rules, mergeMode: 'group-only' }).map((t) => t.name)).toEqual(['cat']);
    expect(modelTagsFrom(p, { ...rules, mergeMode: 'none' }).map((t) => t.path)).toEqual([['tabby']]);
  });

  it('ignores labels by Keras label or tag name, and renames (merging names that collide)', () => {
    const p = [
      { index: 817, label: 'sports_car', score: 0.5 },
      { index: 511, label: 'convertible', score: 0.3 },
      { index: 999, label: 'toilet_tissue', score: 0.9 },
    ];
    const tags = modelTagsFrom(p, { ...rules, ignoreLabels: ['toilet tissue'], renames: { sports_car: 'car', convertible: 'car' } });
    expect(tags).toEqual([{ name: 'car', path: ['car'], score: 0.8, source: 'model' }]);
  });

  it('never shows a tag removed by hand, and hand-added tags have no score', () => {
    const tags = effectiveTags([{ index: 207, label: 'golden_retriever', score: 0.8 }], { added: ['beach'], removed: ['golden retriever'] }, rules);
    expect(tags.map((t) => `${t.name}:${t.source}:${t.score}`)).toEqual(['dog:model:0.8', 'beach:user:null']);
  });

  it('applies the threshold', () => {
    const p = [{ index: 207, label: 'golden_retriever', score: 0.5 }];
    expect(modelTagsFrom(p, { ...rules, threshold: 0.6 })).toEqual([]);
    expect(tagNameOf('Labrador_retriever')).toBe('Labrador retriever');
  });
});

describe('ImageNet hierarchy data', () => {
  const classIndex = sharedPath('reference', 'imagenet_class_index.json');
  it.skipIf(!classIndex)(`matches Keras' class index at every group edge ${classIndex ? '' : SKIP_NO_SHARED}`, () => {
    const index = JSON.parse(readFileSync(classIndex!, 'utf8')) as Record<string, [string, string]>;
    const label = (i: number): string => index[String(i)]![1];
    // Edges read independently off Keras' file.
    expect([label(151), label(268)]).toEqual(['Chihuahua', 'Mexican_hairless']);
    expect([label(281), label(285)]).toEqual(['tabby', 'Egyptian_cat']);
    expect([label(286), label(293)]).toEqual(['cougar', 'cheetah']);
    expect([label(294), label(297)]).toEqual(['brown_bear', 'sloth_bear']);
    expect([label(7), label(24), label(80), label(100), label(127), label(146)]).toEqual(['cock', 'great_grey_owl', 'black_grouse', 'black_swan', 'white_stork', 'albatross']);
    expect([label(924), label(969), label(970), label(980), label(984), label(998)]).toEqual(['guacamole', 'eggnog', 'alp', 'volcano', 'rapeseed', 'ear']);
    expect([label(0), label(6), label(389), label(397)]).toEqual(['tench', 'stingray', 'barracouta', 'puffer']);
  });

  it('puts all 118 dog breeds in one group and no class in two groups', () => {
    const dogs = Array.from({ length: 1000 }, (_, i) => i).filter((i) => groupPathOf(i).at(-1) === 'dog');
    expect(dogs.length).toBe(118);
    const seen = new Map<number, number>();
    for (const group of IMAGENET_GROUPS) for (const [a, b] of group.ranges) for (let i = a; i <= b; i++) seen.set(i, (seen.get(i) ?? 0) + 1);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });
});
