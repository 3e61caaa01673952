/**
 * An XML element tree that remembers where every element, attribute and text run sits in the
 * source string, so that a sidecar can be edited by splicing only the ranges we mean to change.
 *
 * Why our own small reader: fast-xml-parser (which still checks well-formedness first, see
 * xmp-sidecar.ts) gives values but no positions, and rebuilding a file from parsed values
 * re-encodes what other tools wrote (`&#39;` became `&amp;#39;`, `&#xA;` in attributes broke).
 * The input here is already validated, so this reader only has to find boundaries: comments,
 * CDATA, processing instructions, a DOCTYPE, start and end tags, attributes and text.
 */
export interface XmlAttribute {
  /** Qualified name as written, e.g. 'xmlns:dc' or 'xmp:Rating'. */
  name: string;
  /** The value with character and entity references decoded. */
  value: string;
  /** Offset of the name's first character. */
  start: number;
  /** Offset just after the closing quote. */
  end: number;
}

export interface XmlText {
  kind: 'text' | 'cdata';
  /** Decoded text (CDATA content as is). */
  value: string;
  start: number;
  end: number;
}

export interface XmlElement {
  kind: 'element';
  name: string;
  attributes: XmlAttribute[];
  children: XmlNode[];
  /** Namespace prefixes in scope here ('' for the default namespace). */
  scope: ReadonlyMap<string, string>;
  /** Offset of '<' of the start tag. */
  start: number;
  /** Offset just after the start tag's '>' (or '/>'). */
  openEnd: number;
  /** Offset of the end tag's '<'; equals openEnd when the element is self-closing. */
  closeStart: number;
  /** Offset just after the element (its end tag, or the self-closing start tag). */
  end: number;
  selfClosing: boolean;
}

export type XmlNode = XmlElement | XmlText | { kind: 'other'; start: number; end: number };

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** Decodes character references (`&#39;`, `&#xA;`) and the five predefined entities; anything else stays as written. */
export function decodeXml(raw: string): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return NAMED[ref] ?? whole;
  });
}

/** Escapes text content for an element we write. */
export function escapeXmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes an attribute value for a double-quoted attribute we write (newlines and tabs as references, so they survive). */
export function escapeXmlAttribute(value: string): string {
  return escapeXmlText(value).replace(/"/g, '&quot;').replace(/\n/g, '&#xA;').replace(/\r/g, '&#xD;').replace(/\t/g, '&#x9;');
}

/** The namespace URI and local name of a qualified name in an element's scope. */
export function resolveName(qname: string, scope: ReadonlyMap<string, string>, isAttribute = false): [string | undefined, string] {
  const colon = qname.indexOf(':');
  if (colon < 0) return [isAttribute ? undefined : scope.get(''), qname];
  return [scope.get(qname.slice(0, colon)), qname.slice(colon + 1)];
}

/** A prefix bound to the URI in this scope (the first one declared), or undefined. */
export function prefixFor(uri: string, scope: ReadonlyMap<string, string>): string | undefined {
  for (const [prefix, bound] of scope) if (bound === uri && prefix !== '') return prefix;
  return undefined;
}

/** Reads a well-formed document into top-level nodes with positions. Throws on what it cannot delimit. */
export function parseWithPositions(source: string): XmlNode[] {
  const root: XmlNode[] = [];
  const stack: XmlElement[] = [];
  const rootScope = new Map([['xml', XML_NS]]);
  const add = (node: XmlNode): void => {
    (stack.length > 0 ? stack[stack.length - 1]!.children : root).push(node);
  };
  const until = (from: number, marker: string): number => {
    const at = source.indexOf(marker, from);
    if (at < 0) throw new Error(`'${marker}' missing after offset ${from}`);
    return at + marker.length;
  };
  let pos = 0;
  while (pos < source.length) {
    if (source[pos] !== '<') {
      const next = source.indexOf('<', pos);
      const end = next < 0 ? source.length : next;
      add({ kind: 'text', value: decodeXml(source.slice(pos, end)), start: pos, end });
      pos = end;
    } else if (source.startsWith('<!--', pos)) {
      const end = until(pos + 4, '-->');
      add({ kind: 'other', start: pos, end });
      pos = end;
    } else if (source.startsWith('<![CDATA[', pos)) {
      const end = until(pos + 9, ']]>');
      add({ kind: 'cdata', value: source.slice(pos + 9, end - 3), start: pos, end });
      pos = end;
    } else if (source.startsWith('<?', pos)) {
      const end = until(pos + 2, '?>');
      add({ kind: 'other', start: pos, end });
      pos = end;
    } else if (source.startsWith('<!', pos)) {
      // A DOCTYPE, possibly with an internal subset in brackets.
      const bracket = source.indexOf('[', pos);
      const close = source.indexOf('>', pos);
      const end = bracket >= 0 && bracket < close ? until(until(bracket, ']'), '>') : until(pos, '>');
      add({ kind: 'other', start: pos, end });
      pos = end;
    } else if (source.startsWith('</', pos)) {
      const end = until(pos + 2, '>');
      const element = stack.pop();
      if (!element) throw new Error(`an end tag at offset ${pos} closes nothing`);
      element.closeStart = pos;
      element.end = end;
      pos = end;
    } else {
      const nameMatch = /^<([^\s/>]+)/.exec(source.slice(pos, pos + 512));
      if (!nameMatch) throw new Error(`a start tag at offset ${pos} has no name`);
      const element: XmlElement = {
        kind: 'element', name: nameMatch[1]!, attributes: [], children: [], scope: rootScope,
        start: pos, openEnd: -1, closeStart: -1, end: -1, selfClosing: false,
      };
      let at = pos + nameMatch[0].length;
      const attribute = /\s*([^\s=/>]+)\s*=\s*(["'])/y;
      const tail = /\s*(\/?)>/y;
      for (;;) {
        tail.lastIndex = at;
        const closing = tail.exec(source);
        if (closing) {
          element.selfClosing = closing[1] === '/';
          at = tail.lastIndex;
          break;
        }
        attribute.lastIndex = at;
        const found = attribute.exec(source);
        if (!found) throw new Error(`a malformed start tag at offset ${pos}`);
        const valueStart = attribute.lastIndex;
        const valueEnd = source.indexOf(found[2]!, valueStart);
        if (valueEnd < 0) throw new Error(`an unterminated attribute at offset ${valueStart}`);
        const nameStart = at + found[0].length - found[0].trimStart().length;
        element.attributes.push({ name: found[1]!, value: decodeXml(source.slice(valueStart, valueEnd)), start: nameStart, end: valueEnd + 1 });
        at = valueEnd + 1;
      }
      element.openEnd = at;
      const outer = stack.length > 0 ? stack[stack.length - 1]!.scope : rootScope;
      let scope: Map<string, string> | null = null;
      for (const a of element.attributes) {
        if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
          scope ??= new Map(outer);
          scope.set(a.name === 'xmlns' ? '' : a.name.slice(6), a.value);
        }
      }
      element.scope = scope ?? outer;
      add(element);
      if (element.selfClosing) {
        element.closeStart = at;
        element.end = at;
      } else {
        stack.push(element);
      }
      pos = at;
    }
  }
  if (stack.length > 0) throw new Error(`<${stack[stack.length - 1]!.name}> is never closed`);
  return root;
}

/** The element children of a node list. */
export const elementsOf = (nodes: readonly XmlNode[]): XmlElement[] => nodes.filter((n): n is XmlElement => n.kind === 'element');

/** An element's text: its text and CDATA children decoded and joined (comments skipped). */
export function textOf(element: XmlElement): string {
  return element.children.map((n) => (n.kind === 'text' || n.kind === 'cdata' ? n.value : '')).join('');
}
