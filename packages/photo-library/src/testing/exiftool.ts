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
  const out = execFileSync(EXIFTOOL!, ['-q', '-j', '-struct', '-G1', '-a', '-XMP:all', '-charset', 'filename=utf8', file], { encoding: 'utf8' });
  const [fields] = JSON.parse(out) as Record<string, unknown>[];
  delete fields!.SourceFile;
  return fields!;
}
