/**
 * The characters XML 1.0 can hold (its Char production). Its own module, with no imports, so that
 * the browser-safe `/rules` entry (cleanTagName) and the sidecar writer share one definition.
 */
/** Outside XML 1.0's Char production: no escape can put these in a document (`&#1;` is invalid too). */
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The first character of a text that XML cannot hold, as U+XXXX; null when it has none. */
export function xmlIllegalCharacter(value: string): string | null {
  const bad = NOT_XML_CHAR.exec(value);
  return bad ? `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null;
}
