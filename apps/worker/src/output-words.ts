import { asOutputError } from '@xception/batch';
import { inFlagWords } from './flag-words.js';

/**
 * A file-system error while writing `--out` (or a sibling of it), as the one-sentence CliError
 * @xception/batch's asOutputError words it; other errors pass through the flag-words hook.
 */
export function inOutputWords(error: unknown, flag: '--out', out: string): unknown {
  void flag; // the batch words name --out themselves
  return inFlagWords(asOutputError(error, out));
}
