import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order that finishes soonest on CI's two workers: longest first (the greedy
 * longest-processing-time rule), by the seconds each file took in a measured full run
 * (test/file-durations.json; `node scripts/test-durations.mjs <vitest-json-report>` writes it).
 *
 * Why: a fresh clone has no vitest cache, and without one vitest orders files by size, which
 * says little about their time here (a short file that spawns the CLI ten times outlasts a long
 * file of pure functions). A slow file that starts last runs on while the other worker idles.
 * Files the list does not know (new ones) go first, as vitest itself does with unknown files.
 */
export default class DurationSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = durations();
    const root = this.ctx.config.root;
    const known = (f: TestSpecification): number | undefined => seconds[relative(root, f.moduleId).split('\\').join('/')];
    // A stable sort: vitest's own order stays among unknown files and ties.
    return ordered
      .map((file, index) => ({ file, index, seconds: known(file) }))
      .sort((a, b) => {
        if (a.seconds === undefined || b.seconds === undefined) return a.seconds === undefined && b.seconds !== undefined ? -1 : b.seconds === undefined && a.seconds !== undefined ? 1 : a.index - b.index;
        return b.seconds - a.seconds || a.index - b.index;
      })
      .map(({ file }) => file);
  }
}

function durations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(new URL('./file-durations.json', import.meta.url), 'utf8')) as Record<string, number>;
  } catch {
    return {}; // no list: vitest's own order
  }
}
