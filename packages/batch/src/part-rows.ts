import { parseCsvRecord, type NumberedLine } from './results-file.js';

/** A row of a part as merge sees it: its text, or why it cannot be read. */
export type PartRow = { line: number; text: string; fields: string[] } | { line: number; bad: string };

/** Longer than any record we write (a path is at most 4096 bytes): a quote open past this is a stray one. */
const MAX_RECORD_CHARS = 64 * 1024;

/**
 * The records of a CSV part with `columns` fields each. A quoted field may span lines (a path or
 * an error message with a newline), so lines join while a quote is open; but a joined record must
 * parse strictly, have exactly `columns` fields and stay under MAX_RECORD_CHARS. When it does not,
 * its first line alone is the bad row and the lines after it are read again: one stray quote
 * costs one row, not the rest of the part.
 */
export async function* csvRows(lines: AsyncIterable<NumberedLine>, columns: number): AsyncGenerator<PartRow> {
  const source = lines[Symbol.asyncIterator]();
  const again: NumberedLine[] = [];
  const next = async (): Promise<NumberedLine | null> => again.shift() ?? ((await source.next()).value as NumberedLine | undefined) ?? null;
  for (let first = await next(); first; first = await next()) {
    const joined: NumberedLine[] = [first];
    let text = first.text;
    while (quoteOpen(text) && text.length <= MAX_RECORD_CHARS) {
      const more = await next();
      if (!more) break;
      joined.push(more);
      text += `\n${more.text}`;
    }
    const fields = quoteOpen(text) ? null : strictFields(text);
    if (fields && fields.length === columns) { yield { line: first.line, text, fields }; continue; }
    yield { line: first.line, bad: fields ? `${fields.length} fields where the header has ${columns}` : 'a quote that is never closed or stands inside a field' };
    again.unshift(...joined.slice(1));
  }
}

const quoteOpen = (text: string): boolean => (text.match(/"/g)?.length ?? 0) % 2 === 1;

/** The fields of an RFC 4180 record, or null where a quote stands inside an unquoted field or after a closing one. */
function strictFields(record: string): string[] | null {
  const raw = record.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/);
  if (raw.some((f) => f.includes('"') && !/^"(?:[^"]|"")*"$/s.test(f))) return null;
  return parseCsvRecord(record);
}
