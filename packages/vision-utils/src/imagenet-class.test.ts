import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedPath, SKIP_NO_SHARED } from '@xception/test-kit';
import { IMAGENET_CLASSES, imagenetClass, tagName } from './imagenet-class.js';
import { IMAGENET_CLASS_INDEX_MD5 } from './imagenet-classes.js';

describe('IMAGENET_CLASSES', () => {
  it('holds 1000 classes in index order with unique wnids', () => {
    expect(IMAGENET_CLASSES).toHaveLength(1000);
    IMAGENET_CLASSES.forEach((c, i) => expect(c.index).toBe(i));
    expect(new Set(IMAGENET_CLASSES.map((c) => c.wnid)).size).toBe(1000);
    for (const c of IMAGENET_CLASSES) expect(c.wnid).toMatch(/^n\d{8}$/);
  });

  it('keeps the duplicate labels the issue names apart by wnid ("crane" is 134 and 517)', () => {
    expect(IMAGENET_CLASSES[134]!.label).toBe('crane');
    expect(IMAGENET_CLASSES[517]!.label).toBe('crane');
    expect(IMAGENET_CLASSES[134]!.wnid).not.toBe(IMAGENET_CLASSES[517]!.wnid);
    // Keras' published Xception answer for the keras-io elephant: index 386, n02504458, African_elephant.
    expect(IMAGENET_CLASSES[386]).toEqual({ index: 386, wnid: 'n02504458', label: 'African_elephant' });
  });

  it('is frozen so that callers cannot corrupt the shared table', () => {
    expect(Object.isFrozen(IMAGENET_CLASSES)).toBe(true);
    expect(Object.isFrozen(IMAGENET_CLASSES[0])).toBe(true);
  });

  const labelsTsv = sharedPath('images', 'labels.tsv');
  describe.skipIf(!labelsTsv)(`agrees with shared/images/labels.tsv ${labelsTsv ? '' : SKIP_NO_SHARED}`, () => {
    it('index, wnid and label of every row', () => {
      const lines = readFileSync(labelsTsv!, 'utf8').trim().split('\n').slice(1);
      expect(lines.length).toBe(186);
      for (const line of lines) {
        const [, index, wnid, label] = line.split('\t');
        expect(IMAGENET_CLASSES[Number(index)]).toEqual({ index: Number(index), wnid, label });
      }
    });
  });

  const indexJson = sharedPath('reference', 'imagenet_class_index.json');
  describe.skipIf(!indexJson)(`agrees with Keras' imagenet_class_index.json ${indexJson ? '' : SKIP_NO_SHARED}`, () => {
    it('has the md5 Keras checks and every entry', () => {
      const bytes = readFileSync(indexJson!);
      expect(createHash('md5').update(bytes).digest('hex')).toBe('c2c37ea517e94d9795004a39431a14cb');
      expect(IMAGENET_CLASS_INDEX_MD5).toBe('c2c37ea517e94d9795004a39431a14cb');
      const json = JSON.parse(bytes.toString('utf8')) as Record<string, [string, string]>;
      for (let i = 0; i < 1000; i++) {
        const [wnid, label] = json[String(i)]!;
        expect(IMAGENET_CLASSES[i]).toEqual({ index: i, wnid, label });
      }
    });
  });
});

describe('imagenetClass', () => {
  it('looks up by index and by wnid', () => {
    expect(imagenetClass(0)).toEqual({ index: 0, wnid: 'n01440764', label: 'tench' });
    expect(imagenetClass('n01440764')?.index).toBe(0);
    expect(imagenetClass(999)?.index).toBe(999);
  });

  it('gives undefined for anything that is not a class', () => {
    for (const bad of [-1, 1000, 1.5, Number.NaN, 'crane', '', 'n00000000']) expect(imagenetClass(bad)).toBeUndefined();
    expect(imagenetClass(null as unknown as number)).toBeUndefined();
  });
});

describe('tagName', () => {
  it('turns Keras labels into readable tags', () => {
    expect(tagName('African_elephant')).toBe('African elephant');
    expect(tagName('great_white_shark')).toBe('great white shark');
    expect(tagName("jack-o'-lantern")).toBe("jack-o'-lantern");
    expect(tagName('  a__b_ ')).toBe('a b');
    expect(tagName('Cardigan')).toBe('Cardigan');
  });

  it('leaves no underscore in any of the 1000 tags', () => {
    for (const c of IMAGENET_CLASSES) expect(tagName(c.label)).not.toMatch(/_|^\s|\s$|\s\s/);
  });
});
