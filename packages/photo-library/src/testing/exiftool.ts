import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** exiftool (Debian libimage-exiftool-perl): the independent reader the sidecar tests trust. */
export const EXIFTOOL = ['/usr/bin/exiftool', '/usr/local/bin/exiftool'].find((p) => existsSync(p)) ?? null;

export const SKIP_NO_EXIFTOOL = 'skipped: exiftool is not installed (apt-get install -y libimage-exiftool-perl)';

/** Every XMP tag exiftool reads from the files, grouped by namespace (`XMP-dc:Subject`). */
export function exiftoolRead(...files: string[]): Record<string, unknown>[] {
  const out = execFileSync(EXIFTOOL!, ['-q', '-j', '-G1', '-XMP:all', '-charset', 'filename=utf8', ...files], { encoding: 'utf8' });
  return JSON.parse(out) as Record<string, unknown>[];
}

/** exiftool writes one-element lists as plain values; tests compare lists. */
export const asList = (value: unknown): string[] => (value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);

/** Runs exiftool with these arguments (writing a sidecar, say); throws with exiftool's message when it fails. */
export function exiftoolWrite(args: readonly string[]): void {
  execFileSync(EXIFTOOL!, ['-q', '-charset', 'filename=utf8', ...args], { encoding: 'utf8' });
}

/** Every XMP field of one file as exiftool reads it (`-j -struct -G1 -a`): duplicates and structures included. */
export function exiftoolReadAll(file: string): Record<string, unknown> {
  return exiftoolReadEach([file]).get(file)!;
}

/**
 * exiftoolReadAll for many files in one exiftool run (each run starts Perl and its modules:
 * ~0.2 s), by file. exiftool fails the whole run when a file cannot be read, as for one file.
 */
export function exiftoolReadEach(files: readonly string[]): Map<string, Record<string, unknown>> {
  const out = execFileSync(EXIFTOOL!, ['-q', '-j', '-struct', '-G1', '-a', '-XMP:all', '-charset', 'filename=utf8', ...files], { encoding: 'utf8' });
  const read = new Map<string, Record<string, unknown>>();
  for (const fields of JSON.parse(out) as Array<Record<string, unknown>>) {
    const file = String(fields.SourceFile);
    delete fields.SourceFile;
    read.set(file, fields);
  }
  const missing = files.filter((f) => !read.has(f));
  if (missing.length > 0) throw new Error(`exiftool read nothing from ${missing.join(', ')}`);
  return read;
}
