import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type ExportTarget = string | null | { [condition: string]: ExportTarget };

export interface WorkspaceAlias { find: RegExp; replacement: string }

/**
 * Vite aliases that point every export of every workspace package (`packages/*`, `apps/*`) at
 * its TypeScript source, read from package.json `exports`: an entry's `source` condition, or for
 * an entry split by platform, its `node` branch's. Tests then run the sources with no build, and a
 * new package or export needs no edit of vitest.config.ts. An export without a `source` would be
 * tested from dist/ (stale after an edit), so it fails here instead.
 */
export function workspaceAliases(root: string): WorkspaceAlias[] {
  const aliases: WorkspaceAlias[] = [];
  for (const dir of workspacePackageDirs(root)) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; exports?: ExportTarget };
    const entries = typeof pkg.exports === 'object' && pkg.exports !== null ? Object.entries(pkg.exports) : [];
    for (const [subpath, target] of entries) {
      const specifier = subpath === '.' ? pkg.name : `${pkg.name}${subpath.slice(1)}`;
      const source = sourceOf(target);
      if (!source || subpath.includes('*')) {
        throw new Error(`vitest aliases: ${join(dir, 'package.json')} export '${subpath}' needs a "source" condition naming one .ts file`);
      }
      aliases.push({ find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`), replacement: join(dir, source) });
    }
  }
  return aliases;
}

function sourceOf(target: ExportTarget | undefined): string | null {
  if (typeof target !== 'object' || target === null) return null;
  if (typeof target.source === 'string') return target.source;
  return sourceOf(target.node);
}

function workspacePackageDirs(root: string): string[] {
  return ['packages', 'apps'].flatMap((group) => {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) return [];
    return readdirSync(groupDir).map((name) => join(groupDir, name)).filter((dir) => existsSync(join(dir, 'package.json')));
  });
}
