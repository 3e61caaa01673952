/**
 * Characters a class name cannot hold: control characters (a newline splits a keyword, and
 * sidecar readers drop it) and anything outside XML 1.0's Char production (U+FFFE, U+FFFF, lone
 * surrogates), which no XMP sidecar can hold. The photo library refuses the same in hand tags.
 */
const UNUSABLE = /[\p{Cc}]|[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** U+000A style name of a code point. */
const codePoint = (char: string): string => `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why a class name (a training folder's name, a .keras file's class_names entry) cannot be used,
 * as the end of a sentence ("holds U+000A, a control character"); null when it can. Checked once
 * where names enter, so that every later use (tags, sidecars, result files) can trust them.
 */
export function classNameProblem(name: string): string | null {
  if (name.trim().length === 0) return 'is empty';
  if (name.length > 200) return `is ${name.length} characters long, over 200`;
  const bad = UNUSABLE.exec(name);
  if (bad) return `holds ${codePoint(bad[0])}, ${/\p{Cc}/u.test(bad[0]) ? 'a control character' : 'a character XML cannot hold'}`;
  return null;
}
