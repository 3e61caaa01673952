import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The read-only data beside the checkout (`../shared`: the real Keras topology, h5 samples,
 * photos). Tests read it in place; XCEPTION_SHARED_DIR points elsewhere. Returns null when
 * absent so that tests can skip with a message instead of failing.
 */
export function sharedDir(): string | null {
  const fromEnv = process.env.XCEPTION_SHARED_DIR;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  const root = repoRoot();
  if (!root) return null;
  const shared = resolve(root, '..', 'shared');
  return existsSync(shared) ? shared : null;
}

/** The checkout's root (the folder with pnpm-workspace.yaml above this file), or null. */
export function repoRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

/** A path inside shared/, or null when that file is not there. */
export function sharedPath(...parts: string[]): string | null {
  const root = sharedDir();
  if (!root) return null;
  const path = join(root, ...parts);
  return existsSync(path) ? path : null;
}

export const SKIP_NO_SHARED =
  'skipped: ../shared (real Keras topology, weights samples and photos) is not beside this checkout; set XCEPTION_SHARED_DIR to run it';
