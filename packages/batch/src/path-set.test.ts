import { expect, test } from 'vitest';
import { PathSet } from './path-set.js';

test('holds what was added and nothing else, across growth', () => {
  const set = new PathSet();
  const added = Array.from({ length: 50_000 }, (_, i) => `/photos/${i % 97}/IMG_${i}.jpg`);
  for (const p of added) set.add(p);
  set.add(added[0]!); // twice counts once
  expect(set.size).toBe(50_000);
  expect(added.every((p) => set.has(p))).toBe(true);
  const others = Array.from({ length: 50_000 }, (_, i) => `/photos/${i % 97}/IMG_${i}.jpeg`);
  expect(others.filter((p) => set.has(p))).toEqual([]);
  expect(set.has('')).toBe(false);
});
