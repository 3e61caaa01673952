import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { imagenetEntry, type WeightsRegistry } from './imagenet-registry.js';

/**
 * Where downloaded weights live: $XCEPTION_HOME when set, else the user's cache directory
 * ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows)
 * under `xception/`. Keras itself uses ~/.keras/models; a file copied from there works too.
 */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XCEPTION_HOME) return env.XCEPTION_HOME;
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Caches', 'xception');
    case 'win32':
      return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), 'xception', 'Cache');
    default:
      return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'xception');
  }
}

export interface ImagenetPathOptions {
  includeTop?: boolean;
  cacheDir?: string;
  registry?: WeightsRegistry;
}

/** The exact path where the ImageNet file is (or will be) cached; place it there by hand offline. */
export function imagenetWeightsPath(options: ImagenetPathOptions = {}): string {
  const entry = imagenetEntry(options.includeTop ?? true, options.registry);
  return join(options.cacheDir ?? defaultCacheDir(), entry.fileName);
}
