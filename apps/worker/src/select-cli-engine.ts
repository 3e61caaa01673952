import { EngineError, selectEngine as selectLibraryEngine } from '@xception/engines';
import { CliError } from './cli-error.js';

/**
 * @xception/engines' selectEngine, with its errors in this CLI's words: the library says
 * `engine: 'onnx' cannot load: …`, a person at the command line reads `--engine onnx cannot load: …`.
 */
export async function selectEngine(...args: Parameters<typeof selectLibraryEngine>): ReturnType<typeof selectLibraryEngine> {
  try {
    return await selectLibraryEngine(...args);
  } catch (error) {
    if (error instanceof EngineError) throw new CliError(error.code, error.describe((engine) => `--engine ${engine}`));
    throw error;
  }
}
