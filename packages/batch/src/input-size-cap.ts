import { BatchError, libraryWords, type BatchWords } from './batch-error.js';

/**
 * The size cap every remote input kind applies (a URL's body, an s3:// object, a tar member):
 * one sentence and one counting reader, so that `maxInputBytes` means the same for all of them.
 */

/** `<subject>, over the cap of N bytes; raise <maxInputBytes> to read it<advice>.`, in the caller's words at once (an error row keeps only `message`). */
export function inputTooLarge(subject: string, maxBytes: number, words: BatchWords = libraryWords, advice = ''): BatchError {
  const sentence = `${subject}, over the cap of ${maxBytes} bytes; raise ${words.option('maxInputBytes')} to read it${advice}.`;
  return new BatchError('ERR_INPUT_TOO_LARGE', () => sentence);
}

/**
 * Reads a body chunk by chunk and stops at the cap: a sender whose declared length lies (or who
 * declares none) is cut off too. `stop` releases the body; `tooLarge` words the refusal.
 */
export async function readCapped(body: AsyncIterable<Uint8Array>, maxBytes: number, stop: () => unknown, tooLarge: () => Error): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      await stop();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
