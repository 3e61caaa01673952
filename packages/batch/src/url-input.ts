import { BatchError, libraryWords, type BatchErrorCode, type BatchWords } from './batch-error.js';
import { inputTooLarge, readCapped } from './input-size-cap.js';
import type { InputEntry } from './list-inputs.js';

/** How URLs are read: every body capped, every request timed out, failures retried with backoff. */
export interface UrlReadOptions {
  /** The largest body read, in bytes (Content-Length first, then counted while streaming). Default 64 MiB. */
  maxBytes: number;
  /** One request, connect and body together, in milliseconds. Default 30 s. */
  timeoutMs: number;
  /** Tries for network errors, timeouts, 5xx and 429. Default 3. */
  tries: number;
  /** The wait before the second try; doubled before each next one. Default 500 ms. */
  backoffMs: number;
  /** How the error rows name the options (the CLI: `--max-input-bytes`). */
  words: BatchWords;
}

export const URL_READ_DEFAULTS: UrlReadOptions = { maxBytes: 64 * 1024 * 1024, timeoutMs: 30_000, tries: 3, backoffMs: 500, words: libraryWords };

export const isUrl = (spec: string): boolean => /^https?:\/\//i.test(spec);

/** An object-storage input or output, `s3://bucket/key`; read by s3-input.ts, which loads the AWS SDK only when one is met. */
export const isS3Url = (spec: string): boolean => /^s3:\/\//i.test(spec);

/**
 * A URL as an input: its row path is the URL itself (so a rerun skips it), and nothing is
 * fetched until the pipeline's bounded decode step calls `read`.
 */
export function urlInput(url: string, options: UrlReadOptions): InputEntry {
  return { path: url, ok: true, read: () => readUrl(url, options) };
}

/** Fetches a body with Node's fetch; rejects with a BatchError (ERR_INPUT_*) once the tries are spent. */
export async function readUrl(url: string, o: UrlReadOptions): Promise<Uint8Array> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await readOnce(url, o);
    if (outcome instanceof Uint8Array) return outcome;
    if (attempt >= o.tries) throw outcome.error(attempt);
    await new Promise((resolve) => setTimeout(resolve, o.backoffMs * 2 ** (attempt - 1)));
  }
}

/** A failure worth another try, worded once the number of tries is known. */
interface Retryable { error(tries: number): BatchError }

async function readOnce(url: string, o: UrlReadOptions): Promise<Uint8Array | Retryable> {
  const signal = AbortSignal.timeout(o.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (error) {
    return transportFailure(url, error, signal, o);
  }
  if (response.status >= 500 || response.status === 429) {
    await response.body?.cancel().catch(() => undefined);
    const status = `HTTP ${response.status} ${response.statusText}`.trim();
    return { error: (tries) => inputError('ERR_INPUT_HTTP_STATUS', o, (w) => `${url} answered ${status} ${tries} times; the server is failing or busy, so rerun later with ${w.option('retryFailed')}.`) };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw inputError('ERR_INPUT_HTTP_STATUS', o, () => `${url} answered HTTP ${response.status} ${response.statusText}`.trimEnd() + '; check the URL (a 4xx answer is not retried).');
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > o.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge(url, o, `declares ${declared} bytes`);
  }
  try {
    if (!response.body) return new Uint8Array(0);
    const body = response.body;
    return await readCapped(body as unknown as AsyncIterable<Uint8Array>, o.maxBytes, () => body.cancel().catch(() => undefined), () => tooLarge(url, o, `sent more than ${o.maxBytes} bytes`));
  } catch (error) {
    if (error instanceof BatchError) throw error;
    return transportFailure(url, error, signal, o);
  }
}

function transportFailure(url: string, error: unknown, signal: AbortSignal, o: UrlReadOptions): Retryable {
  if (signal.aborted) {
    return { error: (tries) => inputError('ERR_INPUT_TIMEOUT', o, (w) => `${url} did not answer in full within ${o.timeoutMs / 1000} s, ${tries} times; rerun later with ${w.option('retryFailed')}, or raise ${w.option('inputTimeout')}.`) };
  }
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  return { error: (tries) => inputError('ERR_INPUT_NETWORK', o, (w) => `${url} could not be read (${why}) in ${tries} tries; check the host is up, then rerun with ${w.option('retryFailed')}.`) };
}

function tooLarge(url: string, o: UrlReadOptions, what: string): BatchError {
  return inputTooLarge(`${url} ${what}`, o.maxBytes, o.words);
}

/** The row's message is read from `message`, so the sentence is built in the caller's words (o.words) at once. */
function inputError(code: BatchErrorCode, o: UrlReadOptions, sentence: (words: BatchWords) => string): BatchError {
  return new BatchError(code, () => sentence(o.words));
}
