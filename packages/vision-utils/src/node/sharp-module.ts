import { createRequire } from 'node:module';
import type Sharp from 'sharp';
import { VisionUtilsError } from '../errors.js';

export type SharpModule = typeof Sharp;

let cached: SharpModule | undefined;

/**
 * sharp (~19 MB of native libvips) is an optional peer dependency: only `@xception/vision-utils/node`
 * decodes with it, so browser users never install it. It is loaded on first use, synchronously
 * (sharp is CommonJS) so that canDecodeHeic() can stay synchronous; a missing or broken install
 * becomes one typed error instead of Node's module-resolution stack.
 */
export function sharpModule(): SharpModule {
  if (cached) return cached;
  try {
    cached = createRequire(import.meta.url)('sharp') as SharpModule;
    return cached;
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === 'MODULE_NOT_FOUND' && /'sharp'/.test(e.message ?? '')) {
      throw new VisionUtilsError('ERR_SHARP_MISSING', "@xception/vision-utils/node decodes photos with sharp, which is not installed; run 'npm install sharp' (or use @xception/vision-utils/browser in a browser).", { cause: error });
    }
    const first = (e.message ?? String(error)).split('\n')[0];
    throw new VisionUtilsError('ERR_SHARP_MISSING', `sharp is installed but did not load (${first}); reinstall it for this platform with 'npm install sharp'.`, { cause: error });
  }
}
