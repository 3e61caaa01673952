import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain ESM build script without type declarations
import { buildServed } from '../scripts/build.mjs';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const repo = join(appDir, '..', '..');

function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * The served shell as users run it (`pnpm tagger` runs dist/served/tagger.js), built again
 * into dist/ when it is older than a source it bundles, so that a stale build is never what a
 * test or benchmark checks (in dist/, where its external packages resolve). Returns the script.
 */
export async function servedTagger(): Promise<string> {
  const built = join(appDir, 'dist', 'served', 'tagger.js');
  const sources = [join(appDir, 'src'), ...readdirSync(join(repo, 'packages')).map((p) => join(repo, 'packages', p, 'src'))];
  if (existsSync(built) && existsSync(join(appDir, 'dist', 'renderer', 'app.js')) && sources.every((dir) => newestUnder(dir) <= statSync(built).mtimeMs)) return built;
  await buildServed(join(appDir, 'dist'));
  return built;
}
