import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { BatchError, type BatchErrorCode, type BatchWords } from './batch-error.js';
import { inputTooLarge } from './input-size-cap.js';
import { IMAGE_EXTENSIONS, type InputEntry } from './list-inputs.js';

export const isTarShard = (path: string): boolean => extname(path).toLowerCase() === '.tar';

export interface TarShardOptions {
  /** Opens the shard's bytes (default: the local file at the shard's path); an S3 shard streams its object. */
  open?: () => Promise<Readable> | Readable;
  /** A member larger than this gets an ERR_INPUT_TOO_LARGE row and is skipped unread (default: no cap). */
  maxMemberBytes?: number;
  /** How that row names the cap's option (the CLI: `--max-input-bytes`). */
  words?: BatchWords;
}

/** A member's row path: the absolute shard path, '#', the member's name (webdataset's key and extension). */
export const memberPath = (shard: string, member: string): string => `${shard}#${member}`;

/**
 * The image members of a webdataset tar shard (what img2dataset writes), in order, each with its
 * bytes; other members (.json, .txt, .cls) are skipped. The shard is read as a stream with
 * tar-stream, one member at a time, and the next member is read only when the consumer asks for
 * it, so at most the pipeline's decode slots hold bytes. A member cut off by the end of the file
 * gets an error row, and so does a corrupt header (after which nothing more can be read); the
 * members before keep their rows. `shard` is the name rows carry: a path, or `s3://bucket/x.tar`.
 */
export async function* tarShardInputs(shard: string, options: TarShardOptions = {}): AsyncGenerator<InputEntry> {
  let source: Readable;
  try {
    source = await (options.open ?? (() => createReadStream(shard)))();
  } catch (error) {
    yield openFailedRow(shard, error);
    return;
  }
  const extract = tar.extract();
  source.on('error', (error) => extract.destroy(error));
  source.pipe(extract);
  let member: string | null = null;
  let count = 0;
  try {
    for await (const entry of extract) {
      count++;
      const name = entry.header.name;
      if (!isImageMember(entry.header.type, name)) {
        entry.resume(); // drained, so that the next header is read
        continue;
      }
      if (entry.header.size !== undefined && options.maxMemberBytes !== undefined && entry.header.size > options.maxMemberBytes) {
        entry.resume();
        yield tooLargeMember(shard, name, entry.header.size, options.maxMemberBytes, options);
        continue;
      }
      member = name;
      const bytes = await readMember(entry);
      member = null;
      yield { path: memberPath(shard, name), ok: true, bytes };
    }
  } catch (error) {
    const failed = failedRow(shard, member, count, error);
    if (failed) yield failed;
  } finally {
    source.destroy();
  }
}

const isImageMember = (type: string | null | undefined, name: string): boolean =>
  (type === 'file' || type === 'contiguous-file') && IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

async function readMember(entry: AsyncIterable<unknown>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The row for what stopped the reading: a cut member, a corrupt header, or a shard that cannot be read. */
function failedRow(shard: string, member: string | null, count: number, error: unknown): InputEntry | null {
  const errno = (error as NodeJS.ErrnoException).code;
  if (errno) return row(shard, 'ERR_INPUT_UNREADABLE', `${shard} cannot be read (${errno}); check the file, then rerun.`);
  const why = (error as Error).message;
  if (member !== null) {
    return row(memberPath(shard, member), 'ERR_INPUT_TAR_TRUNCATED', `${shard} ends inside member ${member} (${why}); the shard is truncated, so copy or write it again and rerun.`);
  }
  if (/end of data/i.test(why)) return null; // cut inside a skipped member: no image was lost
  const where = memberPath(shard, `<header ${count + 1}>`);
  return row(where, 'ERR_INPUT_TAR_CORRUPT', `${shard} has a corrupt tar header after member ${count} (${why}); the members after it cannot be read, so write the shard again and rerun.`);
}

function openFailedRow(shard: string, error: unknown): InputEntry {
  if (error instanceof BatchError) return row(shard, error.code, error.message);
  const errno = (error as NodeJS.ErrnoException).code ?? String(error);
  return row(shard, 'ERR_INPUT_UNREADABLE', `${shard} cannot be read (${errno}); check the file, then rerun.`);
}

function tooLargeMember(shard: string, member: string, size: number, maxBytes: number, options: TarShardOptions): InputEntry {
  const error = inputTooLarge(`${memberPath(shard, member)} is ${size} bytes`, maxBytes, options.words);
  return row(memberPath(shard, member), error.code, error.message);
}

function row(path: string, code: BatchErrorCode | 'ERR_INPUT_UNREADABLE', message: string): InputEntry {
  return { path, ok: false, code, message };
}
