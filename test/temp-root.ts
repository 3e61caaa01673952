import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest's globalSetup: one temp folder per test run, handed to every test process and every
 * process a test starts (the CLI, the served tagger, Chromium, Python) as TMPDIR, and removed
 * when the run ends. Tests remove their own folders where they can, but a folder made in a
 * `beforeAll` cannot register its removal (vitest ignores an `afterAll` there) and a killed
 * child leaves its files: before this, every run left the served app's albums in /tmp.
 */
export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'xception-tests-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
