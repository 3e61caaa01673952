import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { PathOutsideLibraryError } from './errors.js';

/**
 * Decides whether a path the renderer sent may be touched: only files inside the folders the
 * user added. Symlinks are resolved first so that `added/link -> /etc` does not escape.
 */
export interface PathGuard {
  /** The resolved path when it lies inside an added folder; throws PathOutsideLibraryError otherwise. */
  check(path: string): Promise<string>;
  isInside(path: string): boolean;
}

export function isInsideFolder(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.startsWith(`..${sep}`));
}

export function createPathGuard(folders: () => readonly string[]): PathGuard {
  const isInside = (path: string): boolean => isAbsolute(path) && folders().some((f) => isInsideFolder(resolve(path), f));
  return {
    isInside,
    async check(path) {
      if (typeof path !== 'string' || !isAbsolute(path) || path.includes('\0')) throw new PathOutsideLibraryError(String(path));
      const resolved = resolve(path);
      if (!isInside(resolved)) throw new PathOutsideLibraryError(path);
      const real = await realpath(resolved).catch(() => resolved);
      const realFolders = await Promise.all(folders().map((f) => realpath(f).catch(() => f)));
      if (!realFolders.some((f) => isInsideFolder(real, f))) throw new PathOutsideLibraryError(path);
      return resolved;
    },
  };
}
