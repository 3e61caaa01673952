import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import DurationSequencer from './test/duration-sequencer.js';

const src = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the packages' TypeScript sources directly: no build step before testing.
    alias: [
      { find: /^@xception\/core\/testing$/, replacement: src('./packages/core/src/testing/index.ts') },
      { find: /^@xception\/core$/, replacement: src('./packages/core/src/index.ts') },
      { find: /^@xception\/vision-utils\/node$/, replacement: src('./packages/vision-utils/src/node/index.ts') },
      { find: /^@xception\/vision-utils\/browser$/, replacement: src('./packages/vision-utils/src/browser/index.ts') },
      { find: /^@xception\/vision-utils$/, replacement: src('./packages/vision-utils/src/index.ts') },
      { find: /^@xception\/weights\/browser$/, replacement: src('./packages/weights/src/browser/index.ts') },
      { find: /^@xception\/weights$/, replacement: src('./packages/weights/src/index.ts') },
      { find: /^@xception\/onnx$/, replacement: src('./packages/onnx/src/index.ts') },
      { find: /^@xception\/classifier\/browser$/, replacement: src('./packages/classifier/src/browser/index.ts') },
      { find: /^@xception\/classifier(\/node)?$/, replacement: src('./packages/classifier/src/node/index.ts') },
      { find: /^@xception\/training\/choices$/, replacement: src('./packages/training/src/trainable-from.ts') },
      { find: /^@xception\/training$/, replacement: src('./packages/training/src/index.ts') },
      { find: /^@xception\/batch\/parquet$/, replacement: src('./packages/batch/src/parquet.ts') },
      { find: /^@xception\/batch$/, replacement: src('./packages/batch/src/index.ts') },
      { find: /^@xception\/runtime$/, replacement: src('./packages/runtime/src/index.ts') },
      { find: /^@xception\/engines\/choices$/, replacement: src('./packages/engines/src/engine-choices.ts') },
      { find: /^@xception\/engines$/, replacement: src('./packages/engines/src/index.ts') },
      { find: /^@xception\/photo-library\/rules$/, replacement: src('./packages/photo-library/src/rules.ts') },
      { find: /^@xception\/photo-library\/testing$/, replacement: src('./packages/photo-library/src/testing/index.ts') },
      { find: /^@xception\/photo-library$/, replacement: src('./packages/photo-library/src/index.ts') },
    ],
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
