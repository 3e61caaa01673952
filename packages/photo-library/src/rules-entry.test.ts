import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every module the `/rules` entry reaches, by following its relative imports and re-exports. */
function reachable(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    const source = readFileSync(new URL(file, import.meta.url), 'utf8');
    const specifiers = [...source.matchAll(/\bfrom\s+'([^']+)'/g)].map((m) => m[1]!);
    seen.set(file, specifiers);
    for (const s of specifiers) if (s.startsWith('./')) pending.push(s.replace(/\.js$/, '.ts'));
  }
  return seen;
}

describe('@xception/photo-library/rules', () => {
  it('reaches no Node built-in and no package: browser bundles (the desktop renderer) can take it', () => {
    const graph = reachable('./rules.ts');
    expect([...graph.keys()].sort()).toEqual(['./class-predictions.ts', './imagenet-hierarchy.ts', './library-model.ts', './library-search-index.ts', './rules.ts', './tag-rules.ts', './types.ts', './xml-characters.ts']);
    for (const [file, specifiers] of graph) expect(specifiers.filter((s) => !s.startsWith('./')), file).toEqual([]);
  });
});
