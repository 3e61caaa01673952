import { mergeResults } from '@xception/batch';
import { EXIT } from '../cli-error.js';

/**
 * `xception merge OUT PARTS...`: @xception/batch's mergeResults (first row of a path kept, parts
 * that disagree refused, nothing written on a refusal), and one summary line.
 */
export async function mergeCommand(out: string, parts: readonly string[], log: (line: string) => void, options: { skipBadRows?: boolean } = {}): Promise<number> {
  const merged = await mergeResults(out, parts, { skipBadRows: options.skipBadRows ?? false, onBadRow: (row) => log(`unreadable: ${row}`) });
  const duplicates = merged.duplicates ? `, ${merged.duplicates} duplicate paths dropped` : '';
  const skipped = merged.skipped.length ? `, ${merged.skipped.length} unreadable rows or parts skipped (--skip-bad-rows): ${merged.skipped.join('; ')}` : '';
  log(`merged ${merged.parts} files into ${out}: ${merged.rows} rows${duplicates}${skipped}`);
  return EXIT.ok;
}
