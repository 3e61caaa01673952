import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import DurationSequencer from './test/duration-sequencer.js';
import { workspaceAliases } from './test/workspace-aliases.js';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the packages' TypeScript sources directly: no build step before testing. One
    // alias per export of every workspace package, from its package.json (see the file).
    alias: workspaceAliases(root),
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'apps/*/test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // One TMPDIR per run, removed at its end (see the file).
    globalSetup: ['./test/temp-root.ts'],
    // Full-size Xception on 2 cores: seconds per case, not milliseconds.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // expect.poll waits on real work in other processes (a served tagger training a head, Chromium
    // drawing a page) that shares 2 cores with another test file: vitest's 1 s default failed a CI
    // run whose page needed longer to teach a tag. A poll that never matches still fails, at 30 s.
    expect: { poll: { timeout: 30_000 } },
    // Heavy model tests compete for 2 cores; files run in forks, two at a time. Three were
    // measured back to back: the CLI tests (apps/worker/test) went 315 → 286 s, but packages/
    // (in-process tfjs) 257 → 282 s, and two full CI runs took 678 and 735 s against 711 s.
    pool: 'forks',
    maxWorkers: 2,
    // Files share their worker's module cache instead of a fresh process each: on 49 of the small
    // files, 33 s → 19 s of wall and 59 → 26 s of CPU, nearly all of it importing tfjs and the
    // packages again per file (vitest's own import figure 21.6 → 7.1 s). Tests set their own tfjs
    // backend, count tensors relative to their start and clean up their own files. A test that
    // needs a process nobody has used yet starts one of its own (cpu-backend-banner.test.ts).
    isolate: false,
    // Longest files first, by a measured run's times (see the file): the run ends with short files.
    sequence: { sequencer: DurationSequencer },
    reporters: ['default'],
  },
});
