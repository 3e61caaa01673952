import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { S3Client } from '@aws-sdk/client-s3';
import fg from 'fast-glob';
import { isTarShard, tarShardInputs } from './tar-shard-input.js';
import { isS3Url, isUrl, URL_READ_DEFAULTS, urlInput, type UrlReadOptions } from './url-input.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif']);

/**
 * One thing to classify, or a reason it cannot be (so that every input gets a row). A local file
 * is read from `path`; a tar member carries its `bytes`; a URL is fetched by `read`, called in the
 * pipeline's bounded decode step.
 */
export type InputEntry =
  | { readonly path: string; readonly ok: true; readonly bytes?: Uint8Array; read?(): Promise<Uint8Array> }
  | { readonly path: string; readonly ok: false; readonly code: string; readonly message: string };

export interface ListOptions {
  recursive: boolean;
  /** Standard input for '-', one path per line. */
  stdin?: NodeJS.ReadableStream;
  /** Files of inputs, one path or URL a line; blank lines and '#' comments are skipped. Read after `specs`. */
  inputLists?: readonly string[];
  /** How http(s) URLs and s3:// objects are read: the same cap, timeout and words (defaults: URL_READ_DEFAULTS). */
  urls?: Partial<UrlReadOptions>;
  /** The client for s3:// inputs (default: createS3Client() from the AWS_* environment), asked for at the first one. */
  s3Client?: () => S3Client;
}

/**
 * Streams the inputs: files as given, directories walked (into subdirectories with
 * `recursive`), globs expanded, '-' and the input lists read line by line, http(s) URLs read
 * lazily, s3:// objects and prefixes read as s3-input.ts says, .tar shards (given or matched by a glob)
 * read member by member. Nothing is collected:
 * ten million files or URLs flow through one at a time. Directory symlink loops are walked once (by device and inode).
 * Files inside directories are kept when their extension is an image's; files named
 * explicitly are always tried.
 */
export async function* listInputs(specs: readonly string[], options: ListOptions): AsyncGenerator<InputEntry> {
  const visitedDirs = new Set<string>();
  const urls: UrlReadOptions = { ...URL_READ_DEFAULTS, ...options.urls };
  const remote: Remote = { urls, s3: s3Reader(options, urls) };
  for (const spec of specs) {
    if (spec === '-') {
      for await (const line of linesOf(options.stdin ?? process.stdin, false)) yield* explicit(line, options, visitedDirs, remote);
    } else if (!isUrl(spec) && !isS3Url(spec) && fg.isDynamicPattern(spec)) {
      for await (const match of fg.stream(spec, { onlyFiles: true, absolute: true, dot: false, suppressErrors: true, followSymbolicLinks: true })) {
        const path = resolve(String(match));
        if (isTarShard(path)) yield* tarShardInputs(path, { maxMemberBytes: urls.maxBytes, words: urls.words });
        else yield { path, ok: true };
      }
    } else {
      yield* explicit(spec, options, visitedDirs, remote);
    }
  }
  for (const list of options.inputLists ?? []) {
    const unreadable = await stat(list).then(() => null, (error: unknown) => notReadable(resolve(list), error));
    if (unreadable) {
      yield unreadable;
      continue;
    }
    for await (const line of linesOf(createReadStream(list), true)) yield* explicit(line, options, visitedDirs, remote);
  }
}

/** How URLs and s3:// specs are read in one listing. */
interface Remote {
  urls: UrlReadOptions;
  s3: (spec: string) => AsyncGenerator<InputEntry>;
}

/** s3:// specs, with one client for the listing; the AWS SDK loads at the first such spec, not before. */
function s3Reader(options: ListOptions, urls: UrlReadOptions): (spec: string) => AsyncGenerator<InputEntry> {
  let client: S3Client | undefined;
  return async function* s3(spec) {
    const [{ s3Inputs }, { createS3Client }] = await Promise.all([import('./s3-input.js'), import('./s3-objects.js')]);
    const shared = (): S3Client => (client ??= options.s3Client?.() ?? createS3Client());
    yield* s3Inputs(spec, { client: shared, maxBytes: urls.maxBytes, timeoutMs: urls.timeoutMs, words: urls.words });
  };
}

/** The non-blank lines, trimmed; in an input list, '#' comments too are skipped. */
async function* linesOf(input: NodeJS.ReadableStream, skipComments: boolean): AsyncGenerator<string> {
  for await (const raw of createInterface({ input, crlfDelay: Infinity })) {
    const line = raw.trim();
    if (line !== '' && !(skipComments && line.startsWith('#'))) yield line;
  }
}

async function* explicit(spec: string, options: ListOptions, visited: Set<string>, remote: Remote): AsyncGenerator<InputEntry> {
  if (isUrl(spec)) {
    yield urlInput(spec, remote.urls);
    return;
  }
  if (isS3Url(spec)) {
    yield* remote.s3(spec);
    return;
  }
  const path = resolve(spec);
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    yield notReadable(path, error);
    return;
  }
  if (info.isDirectory()) yield* walk(path, options.recursive, visited);
  else if (info.isFile() && isTarShard(path)) yield* tarShardInputs(path, { maxMemberBytes: remote.urls.maxBytes, words: remote.urls.words });
  else if (info.isFile()) yield { path, ok: true };
  else yield notAFile(path);
}

async function* walk(dir: string, recursive: boolean, visited: Set<string>): AsyncGenerator<InputEntry> {
  const self = await stat(dir).catch(() => null);
  if (!self) return;
  const key = `${self.dev}:${self.ino}`;
  if (visited.has(key)) return; // a symlink loop, or the same folder given twice
  visited.add(key);
  let handle;
  try {
    handle = await opendir(dir);
  } catch (error) {
    yield notReadable(dir, error);
    return;
  }
  for await (const entry of handle) {
    const path = join(dir, entry.name);
    if (entry.name.startsWith('.')) continue; // hidden files and folders, sidecar caches
    if (entry.isDirectory() || entry.isSymbolicLink()) {
      let target;
      try {
        target = await stat(path);
      } catch (error) {
        // A dangling or looping symlink with an image's name is an input that fails.
        if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) yield notReadable(path, error);
        continue;
      }
      if (target.isDirectory()) {
        if (recursive) yield* walk(path, recursive, visited);
        continue;
      }
      if (!target.isFile()) {
        if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) yield notAFile(path);
        continue;
      }
    } else if (!entry.isFile()) {
      if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) yield notAFile(path);
      continue;
    }
    if (IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) yield { path, ok: true };
  }
}

/** FIFOs, sockets and devices are never opened: reading a FIFO would hang the run. */
function notAFile(path: string): InputEntry {
  return { path, ok: false, code: 'ERR_INPUT_NOT_A_FILE', message: `${path} is not a regular file (a FIFO, socket or device); pass image files or folders.` };
}

function notReadable(path: string, error: unknown): InputEntry {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist (or is a dangling symlink)'
    : code === 'ELOOP' ? 'is a symlink loop'
    : code === 'EACCES' || code === 'EPERM' ? 'cannot be read (permission denied)'
    : `cannot be read (${code ?? String(error)})`;
  return { path, ok: false, code: code === 'ENOENT' ? 'ERR_INPUT_NOT_FOUND' : 'ERR_INPUT_UNREADABLE', message: `${path} ${why}.` };
}
