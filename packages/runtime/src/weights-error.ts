import { reasonOf, RuntimeError } from './runtime-error.js';

/** An error of @xception/weights (ERR_WEIGHTS_*, ERR_DOWNLOAD_*) as a RuntimeError about `weights`; others pass through. */
export function weightsError(source: string, error: unknown): unknown {
  const code = (error as { code?: unknown })?.code;
  if (typeof code !== 'string' || !/^ERR_(WEIGHTS|DOWNLOAD)_/.test(code)) return error;
  const reason = reasonOf(error);
  return new RuntimeError('ERR_RUNTIME_WEIGHTS', 'weights', (w) => {
    const text = w.reword ? w.reword(reason) : reason;
    // A sentence that already names the option (re-worded: `pass --weights imagenet`) is not prefixed with it again.
    if (text.includes(w.option('weights', ''))) return `${text}.`;
    return text.startsWith(source) ? `${w.option('weights', source)}${text.slice(source.length)}.` : `${w.option('weights', source)}: ${text}.`;
  }, { cause: error });
}
