import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { REPO_ROOT } from './published-packages.js';

/**
 * scripts/function-lengths.mjs holds the line issue 22 drew: no hand-written function over 100
 * lines in packages/*\/src and apps/*\/src. Checked on the repo, and on files written here whose
 * lengths are known by construction (so the check itself can fail).
 */
const SCRIPT = join(REPO_ROOT, 'scripts/function-lengths.mjs');
const dir = mkdtempSync(join(tmpdir(), 'function-lengths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', cwd: REPO_ROOT });

test('no hand-written function in packages/*/src or apps/*/src runs past 100 lines', () => {
  const result = run('--limit', '100', '--fail');
  expect(result.stdout).toMatch(/^0 function\(s\) over 100 lines$/m);
  expect(result.status).toBe(0);
});

test('a 101-line function (and a 101-line arrow function in an object) fails the check; tests are left out', () => {
  const body = (n: number): string => Array.from({ length: n - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  mkdirSync(join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'src', 'long.ts'), `export function long(): void {\n${body(101)}\n}\nexport function short(): void {\n${body(100)}\n}\n`);
  writeFileSync(join(dir, 'src', 'factory.ts'), `export const api = {\n  handle: () => {\n${body(101)}\n  },\n};\n`);
  writeFileSync(join(dir, 'src', 'long.test.ts'), `export function inTest(): void {\n${body(150)}\n}\n`);
  const result = run('--limit', '100', '--fail', join(dir, 'src'));
  expect(result.status).toBe(1);
  expect(result.stdout.trimEnd().split('\n')).toEqual([
    expect.stringMatching(/^ 101 .*factory\.ts:2 {2}handle$/),
    expect.stringMatching(/^ 101 .*long\.ts:1 {2}long$/),
    '2 function(s) over 100 lines',
  ]);
});
