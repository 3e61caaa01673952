import { XMLValidator } from 'fast-xml-parser';
import { SidecarUnreadableError, UnusableTagError } from './errors.js';
import type { PhotoTag, Prediction } from './types.js';
import {
  elementsOf,
  escapeXmlAttribute,
  escapeXmlText,
  parseWithPositions,
  prefixFor,
  resolveName,
  textOf,
  type XmlAttribute,
  type XmlElement,
  type XmlNode,
} from './xml-positions.js';
import { xmlIllegalCharacter } from './xml-characters.js';

/** Namespaces the app reads and writes, by URI (prefixes in existing files may differ). */
export const XMP_NAMESPACES = {
  x: 'adobe:ns:meta/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  lr: 'http://ns.adobe.com/lightroom/1.0/',
  digiKam: 'http://www.digikam.org/ns/1.0/',
  /** The app's own namespace: which keywords it owns, hand edits, raw predictions. */
  xcp: 'https://xception-ts.github.io/ns/desktop/1.0/',
} as const;

/** What the app keeps in a sidecar; enough to rebuild the index from the sidecars alone. */
export interface SidecarTags {
  /** Root of the app's lr:hierarchicalSubject / digiKam:TagsList entries, e.g. 'Xception'. */
  root: string;
  /** Model tags after the rules (threshold, ignore, rename, merge). */
  modelTags: readonly PhotoTag[];
  /** Hand-added tag names. */
  userTags: readonly string[];
  /** Model tags the user removed by hand. */
  removedTags: readonly string[];
  predictions: readonly Prediction[];
  /** Which weights produced the predictions; null when the photo was never classified. */
  model: string | null;
}

/** What readSidecarState finds in a sidecar, whoever wrote it. */
export interface SidecarState {
  /** Every dc:subject keyword, the app's and other tools'. */
  subjects: string[];
  hierarchicalSubjects: string[];
  tagsList: string[];
  /** The app's own record, null when the app never wrote this sidecar. */
  app: SidecarTags | null;
}

const NS = XMP_NAMESPACES;

/** A parsed sidecar: its source, the rdf:RDF element and its rdf:Description elements. */
interface Document {
  source: string;
  rdf: XmlElement;
  descriptions: XmlElement[];
}

function findRdf(nodes: readonly XmlNode[]): XmlElement | null {
  for (const element of elementsOf(nodes)) {
    const [uri, local] = resolveName(element.name, element.scope);
    if (uri === NS.rdf && local === 'RDF') return element;
    const found = findRdf(element.children);
    if (found) return found;
  }
  return null;
}

function parseDocument(source: string, path: string): Document {
  // fast-xml-parser's validator decides well-formedness (a library, not our reader); the
  // position reader then only has to find boundaries in a document known to be sound.
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw new SidecarUnreadableError(path, `line ${valid.err.line}: ${valid.err.msg}`);
  let nodes: XmlNode[];
  try {
    nodes = parseWithPositions(source);
  } catch (error) {
    throw new SidecarUnreadableError(path, (error as Error).message, error);
  }
  const rdf = findRdf(nodes);
  if (!rdf) throw new SidecarUnreadableError(path, 'it has no rdf:RDF element');
  const descriptions = elementsOf(rdf.children).filter((e) => {
    const [uri, local] = resolveName(e.name, e.scope);
    return uri === NS.rdf && local === 'Description';
  });
  return { source, rdf, descriptions };
}

const EMPTY_PACKET = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="xception-ts">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

/** Where a property occurs: as an element below a description, or as one of its attributes. */
type Occurrence =
  | { form: 'element'; description: XmlElement; element: XmlElement }
  | { form: 'attribute'; description: XmlElement; attribute: XmlAttribute };

const matches = (qname: string, scope: ReadonlyMap<string, string>, uri: string, local: string, isAttribute = false): boolean => {
  const [u, l] = resolveName(qname, scope, isAttribute);
  return u === uri && l === local;
};

function occurrences(doc: Document, uri: string, local: string): Occurrence[] {
  const found: Occurrence[] = [];
  for (const description of doc.descriptions) {
    for (const attribute of description.attributes) {
      if (!attribute.name.startsWith('xmlns') && matches(attribute.name, description.scope, uri, local, true)) found.push({ form: 'attribute', description, attribute });
    }
    for (const element of elementsOf(description.children)) {
      if (matches(element.name, element.scope, uri, local)) found.push({ form: 'element', description, element });
    }
  }
  return found;
}

/** The rdf:li items of a property's containers (rdf:Bag, rdf:Seq, rdf:Alt), with their source ranges. */
function itemsOf(property: XmlElement): { value: string; element: XmlElement }[] {
  return elementsOf(property.children).flatMap((container) =>
    elementsOf(container.children).filter((li) => matches(li.name, li.scope, NS.rdf, 'li')).map((li) => ({ value: textOf(li), element: li })),
  );
}

/** The values of a property, whoever wrote it: list items, a simple element's text, or an attribute's value. */
function readValues(doc: Document, uri: string, local: string): string[] {
  return occurrences(doc, uri, local).flatMap((o) => {
    if (o.form === 'attribute') return [o.attribute.value];
    return elementsOf(o.element.children).length > 0 ? itemsOf(o.element).map((i) => i.value) : [textOf(o.element)];
  });
}

// The class number may be OWN_CLASS_INDEX (-1): a trained model's own class.
const PREDICTION = /^(-?\d+)\|(.*)\|([0-9.eE+-]+)$/;

/** Reads what a sidecar says about tags, whoever wrote it. Throws SidecarUnreadableError for broken XML. */
export function readSidecarState(xml: string, path: string): SidecarState {
  const doc = parseDocument(xml, path);
  const model = readValues(doc, XMP_NAMESPACES.xcp, 'Model')[0];
  const root = readValues(doc, XMP_NAMESPACES.xcp, 'Root')[0];
  const ownedModel = readValues(doc, XMP_NAMESPACES.xcp, 'ModelTags');
  const hierarchical = readValues(doc, XMP_NAMESPACES.lr, 'hierarchicalSubject');
  const scores = new Map<string, number>();
  const predictions: Prediction[] = readValues(doc, XMP_NAMESPACES.xcp, 'Predictions').flatMap((entry) => {
    const match = PREDICTION.exec(entry);
    return match ? [{ index: Number(match[1]), label: match[2]!, score: Number(match[3]) }] : [];
  });
  for (const entry of readValues(doc, XMP_NAMESPACES.xcp, 'ModelScores')) {
    const at = entry.lastIndexOf('|');
    if (at > 0) scores.set(entry.slice(0, at), Number(entry.slice(at + 1)));
  }
  const app: SidecarTags | null =
    root === undefined
      ? null
      : {
          root,
          modelTags: ownedModel.map((name) => {
            const entry = hierarchical.find((h) => h.startsWith(`${root}|`) && h.endsWith(`|${name}`));
            return { name, path: entry ? entry.split('|').slice(1) : [name], score: scores.get(name) ?? null, source: 'model' as const };
          }),
          userTags: readValues(doc, XMP_NAMESPACES.xcp, 'UserTags'),
          removedTags: readValues(doc, XMP_NAMESPACES.xcp, 'RemovedTags'),
          predictions,
          model: model ?? null,
        };
  return {
    subjects: readValues(doc, XMP_NAMESPACES.dc, 'subject'),
    hierarchicalSubjects: hierarchical,
    tagsList: readValues(doc, XMP_NAMESPACES.digiKam, 'TagsList'),
    app,
  };
}

const unique = (values: Iterable<string>): string[] => [...new Set(values)];

/** Our own new rdf:Description (see SidecarEditor.additions). */
const NEW = Symbol('new rdf:Description');
type Target = XmlElement | typeof NEW;

/** One byte-range replacement in the source. */
interface Splice {
  start: number;
  end: number;
  text: string;
}

/** The whitespace that indents the line a position sits on. */
function indentAt(source: string, position: number): string {
  const lineStart = source.lastIndexOf('\n', position - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart, position))![0];
}

/** Start of the whitespace run just before a position (on the same run of blanks and newlines). */
function whitespaceBefore(source: string, position: number): number {
  let at = position;
  while (at > 0 && /\s/.test(source[at - 1]!)) at--;
  return at;
}

/**
 * Sidecar edits, gathered first and applied at once from the end of the file backwards, so
 * that each splice's offsets are those of the original source. Every byte outside a splice is
 * the original's.
 */
class SidecarEditor {
  private readonly splices: Splice[] = [];
  /**
   * Per description: namespace declarations and property elements to add. NEW is an
   * rdf:Description of our own after the others, for properties whose namespace no description
   * declares: the other tools' descriptions then keep every byte, start tags included.
   */
  private readonly additions = new Map<Target, { namespaces: Map<string, string>; properties: string[] }>();

  constructor(private readonly doc: Document) {}

  /** Sets a property (a list, or a simple value). Leaves it byte for byte alone when it already holds exactly this. */
  write(uri: string, local: string, value: readonly string[] | string, container: 'Bag' | 'Seq' = 'Bag'): void {
    const found = occurrences(this.doc, uri, local);
    const isList = typeof value !== 'string';
    const values: readonly string[] = isList ? value : [value];
    // The last guard: names are checked where they enter (train, .keras files, the page); a
    // value that still holds what XML cannot is refused here rather than written as a broken sidecar.
    for (const v of values) {
      const bad = xmlIllegalCharacter(v);
      if (bad) throw new UnusableTagError(`The value ${JSON.stringify(v)} holds ${bad}, which an XMP sidecar cannot hold; the sidecar was left untouched: rename that class or tag.`);
    }
    if (isList && values.length === 0) {
      for (const o of found) this.remove(o);
      return;
    }
    const current = readValues(this.doc, uri, local);
    if (found.length === 1 && current.length === values.length && current.every((v, i) => v === values[i])) return;
    const element = found.find((o): o is Extract<Occurrence, { form: 'element' }> => o.form === 'element');
    for (const o of found) if (o !== element) this.remove(o);
    if (element) {
      this.replaceContent(element.element, values, isList, container);
      return;
    }
    const description = found[0]?.description ?? this.targetFor(uri);
    const prefix = this.prefixIn(description, uri);
    const rdf = this.prefixIn(description, NS.rdf);
    const name = `${prefix}:${local}`;
    const indent = this.childIndent(description);
    const body = isList ? this.listBody(rdf, values, container, indent) : escapeXmlText(values[0]!);
    this.additionsOf(description).properties.push(`<${name}>${body}</${name}>`);
  }

  /** The edited source. */
  apply(): string {
    for (const [description, { namespaces, properties }] of this.additions) {
      const source = this.doc.source;
      const decls = [...namespaces].map(([prefix, uri]) => ` xmlns:${prefix}="${uri}"`).join('');
      const indent = this.childIndent(description);
      const children = properties.map((p) => `\n${indent}${p}`).join('');
      if (description === NEW) {
        const last = this.doc.descriptions.at(-1)!;
        const rdf = prefixFor(NS.rdf, this.doc.rdf.scope) ?? 'rdf';
        const about = last.attributes.find((a) => matches(a.name, last.scope, NS.rdf, 'about', true))?.value ?? '';
        const outer = indentAt(source, last.start);
        const text = `\n${outer}<${rdf}:Description ${rdf}:about="${escapeXmlAttribute(about)}"${decls}>${children}\n${outer}</${rdf}:Description>`;
        this.splices.push({ start: last.end, end: last.end, text });
      } else if (description.selfClosing) {
        // `<rdf:Description .../>` becomes `<rdf:Description ...>` + children + its end tag.
        const slash = source.lastIndexOf('/', description.openEnd - 1);
        this.splices.push({ start: slash, end: description.openEnd, text: `${decls}>${children}\n${indentAt(source, description.start)}</${description.name}>` });
      } else {
        if (decls) this.splices.push({ start: description.openEnd - 1, end: description.openEnd - 1, text: decls });
        const last = elementsOf(description.children).at(-1);
        const at = last ? last.end : description.openEnd;
        this.splices.push({ start: at, end: at, text: children });
      }
    }
    let out = this.doc.source;
    // A file with Windows line ends gets them in what we add too.
    const eol = out.includes('\r\n') ? '\r\n' : '\n';
    for (const s of [...this.splices].sort((a, b) => b.start - a.start || b.end - a.end)) {
      out = out.slice(0, s.start) + (eol === '\n' ? s.text : s.text.replace(/\r?\n/g, eol)) + out.slice(s.end);
    }
    return out;
  }

  private remove(o: Occurrence): void {
    const source = this.doc.source;
    if (o.form === 'attribute') {
      this.splices.push({ start: whitespaceBefore(source, o.attribute.start), end: o.attribute.end, text: '' });
    } else {
      // The element and the line break and indent before it: no blank line is left behind.
      this.splices.push({ start: whitespaceBefore(source, o.element.start), end: o.element.end, text: '' });
    }
  }

  /** Replaces what is inside a property element; its start and end tags (prefix, attributes, namespace declarations) stay. */
  private replaceContent(property: XmlElement, values: readonly string[], isList: boolean, container: 'Bag' | 'Seq'): void {
    const source = this.doc.source;
    const indent = indentAt(source, property.start);
    const open = property.selfClosing ? source.slice(property.start, property.openEnd).replace(/\s*\/>$/, '>') : null;
    if (!isList) {
      const text = escapeXmlText(values[0]!);
      if (open) this.splices.push({ start: property.start, end: property.end, text: `${open}${text}</${property.name}>` });
      else this.splices.push({ start: property.openEnd, end: property.closeStart, text });
      return;
    }
    const existing = elementsOf(property.children)[0];
    const items = itemsOf(property);
    if (existing && !existing.selfClosing && items.length > 0) {
      // Keep the container's own tags and every kept item's bytes as written; new items are appended.
      const liIndent = indentAt(source, items[0]!.element.start);
      const raw = new Map<string, string>();
      for (const item of items) if (!raw.has(item.value)) raw.set(item.value, source.slice(item.element.start, item.element.end));
      const rdf = prefixFor(NS.rdf, existing.scope) ?? 'rdf';
      const lines = values.map((v) => raw.get(v) ?? `<${rdf}:li>${escapeXmlText(v)}</${rdf}:li>`);
      this.splices.push({ start: existing.openEnd, end: existing.closeStart, text: `${lines.map((l) => `\n${liIndent}${l}`).join('')}\n${indentAt(source, existing.start)}` });
      return;
    }
    const rdf = prefixFor(NS.rdf, property.scope) ?? 'rdf';
    const kind = existing ? resolveName(existing.name, existing.scope)[1] : container;
    const body = this.listBody(rdf, values, kind === 'Seq' || kind === 'Bag' || kind === 'Alt' ? kind : container, indent);
    if (open) this.splices.push({ start: property.start, end: property.end, text: `${open}${body}</${property.name}>` });
    else this.splices.push({ start: property.openEnd, end: property.closeStart, text: body });
  }

  private listBody(rdf: string, values: readonly string[], container: string, indent: string): string {
    const items = values.map((v) => `\n${indent}  <${rdf}:li>${escapeXmlText(v)}</${rdf}:li>`).join('');
    return `\n${indent} <${rdf}:${container}>${items}\n${indent} </${rdf}:${container}>\n${indent}`;
  }

  /**
   * Where a new property goes: the first description that already declares its namespace;
   * else the only, empty description of a fresh packet; else a description of our own.
   */
  private targetFor(uri: string): Target {
    const declaring = this.doc.descriptions.find((d) => prefixFor(uri, d.scope) !== undefined);
    if (declaring) return declaring;
    const [only, ...rest] = this.doc.descriptions;
    const empty = rest.length === 0 && only!.children.every((n) => n.kind === 'text' && n.value.trim() === '') && only!.attributes.every((a) => a.name.startsWith('xmlns') || matches(a.name, only!.scope, NS.rdf, 'about', true));
    return empty ? only! : NEW;
  }

  private additionsOf(description: Target): { namespaces: Map<string, string>; properties: string[] } {
    let entry = this.additions.get(description);
    if (!entry) this.additions.set(description, (entry = { namespaces: new Map(), properties: [] }));
    return entry;
  }

  /** The prefix a namespace has in a description, declaring it on the description when it has none. */
  private prefixIn(description: Target, uri: string): string {
    const existing = prefixFor(uri, description === NEW ? this.doc.rdf.scope : description.scope);
    if (existing) return existing;
    const pending = this.additionsOf(description).namespaces;
    for (const [prefix, bound] of pending) if (bound === uri) return prefix;
    const wanted = PREFERRED[uri] ?? 'ns';
    let prefix = wanted;
    const scope = description === NEW ? this.doc.rdf.scope : description.scope;
    for (let i = 1; scope.has(prefix) || pending.has(prefix); i++) prefix = `${wanted}${i}`;
    pending.set(prefix, uri);
    return prefix;
  }

  private childIndent(description: Target): string {
    if (description === NEW) return `${indentAt(this.doc.source, this.doc.descriptions.at(-1)!.start)} `;
    const first = elementsOf(description.children)[0];
    return first ? indentAt(this.doc.source, first.start) : `${indentAt(this.doc.source, description.start)} `;
  }
}

const PREFERRED: Record<string, string> = { [NS.dc]: 'dc', [NS.lr]: 'lr', [NS.digiKam]: 'digiKam', [NS.xcp]: 'xcp', [NS.rdf]: 'rdf' };

/**
 * Merges the app's tags into a sidecar's XML (or a fresh packet when `existing` is null) and
 * returns the new XML. Only the app's own entries change: the dc:subject keywords it wrote
 * last time (recorded in xcp:ModelTags / xcp:UserTags), the lr:hierarchicalSubject /
 * digiKam:TagsList entries under its root, and its xcp: properties. The edit is a splice of
 * those elements' byte ranges: every other byte of the file (other tools' properties and
 * attributes, references like `&#39;`, CDATA, comments, the xpacket, xml:lang alternatives,
 * unknown namespaces, several rdf:Description elements) is the original's. Merging the same
 * tags again changes no byte. Throws SidecarUnreadableError rather than replacing a sidecar
 * it cannot parse.
 */
export function mergeSidecar(existing: string | null, tags: SidecarTags, path: string): string {
  let source = existing === null || existing.trim() === '' ? EMPTY_PACKET : existing;
  let doc = parseDocument(source, path);
  if (doc.descriptions.length === 0) {
    // An rdf:RDF without descriptions gets one, then is read again with it.
    const rdf = prefixFor(NS.rdf, doc.rdf.scope) ?? 'rdf';
    const at = doc.rdf.selfClosing ? doc.rdf.start : doc.rdf.openEnd;
    const element = `\n${indentAt(source, doc.rdf.start)} <${rdf}:Description ${rdf}:about=""/>`;
    source = doc.rdf.selfClosing
      ? `${source.slice(0, at)}${source.slice(at, doc.rdf.end).replace(/\s*\/>$/, '>')}${element}\n${indentAt(source, doc.rdf.start)}</${doc.rdf.name}>${source.slice(doc.rdf.end)}`
      : `${source.slice(0, at)}${element}${source.slice(at)}`;
    doc = parseDocument(source, path);
  }
  const previousRoot = readValues(doc, NS.xcp, 'Root')[0];
  const previousModel = readValues(doc, NS.xcp, 'ModelTags');
  const previouslyOwned = new Set([...previousModel, ...readValues(doc, NS.xcp, 'UserTags')]);
  // A model keyword the app wrote that is gone from dc:subject was deleted by hand in another
  // tool (digiKam, Lightroom): that is a hand edit too, and the model must not bring it back.
  const existingSubjects = new Set(readValues(doc, NS.dc, 'subject'));
  const removedElsewhere = previousModel.filter((t) => !existingSubjects.has(t) && !tags.removedTags.includes(t));
  if (removedElsewhere.length > 0) {
    const gone = new Set(removedElsewhere);
    tags = { ...tags, modelTags: tags.modelTags.filter((t) => !gone.has(t.name)), removedTags: [...tags.removedTags, ...removedElsewhere] };
  }
  const modelNames = tags.modelTags.map((t) => t.name);
  const owned = unique([...modelNames, ...tags.userTags]);
  const ownedSet = new Set(owned);
  const editor = new SidecarEditor(doc);

  const subjects = readValues(doc, NS.dc, 'subject').filter((s) => !previouslyOwned.has(s) || ownedSet.has(s));
  editor.write(NS.dc, 'subject', unique([...subjects, ...owned]));

  const ours = (entry: string, separator: string): boolean =>
    entry.startsWith(`${tags.root}${separator}`) || (previousRoot !== undefined && entry.startsWith(`${previousRoot}${separator}`));
  const paths = [...tags.modelTags.map((t) => t.path), ...tags.userTags.map((t) => [t])];
  const hierarchical = readValues(doc, NS.lr, 'hierarchicalSubject').filter((e) => !ours(e, '|'));
  editor.write(NS.lr, 'hierarchicalSubject', unique([...hierarchical, ...paths.map((p) => [tags.root, ...p].join('|'))]));
  const tagsList = readValues(doc, NS.digiKam, 'TagsList').filter((e) => !ours(e, '/'));
  // digiKam:TagsList is an rdf:Seq in digiKam's schema; predictions keep their rank order.
  editor.write(NS.digiKam, 'TagsList', unique([...tagsList, ...paths.map((p) => [tags.root, ...p].join('/'))]), 'Seq');

  editor.write(NS.xcp, 'Root', tags.root);
  if (tags.model !== null) editor.write(NS.xcp, 'Model', tags.model);
  editor.write(NS.xcp, 'ModelTags', modelNames);
  editor.write(NS.xcp, 'ModelScores', tags.modelTags.map((t) => `${t.name}|${(t.score ?? 0).toFixed(4)}`));
  editor.write(NS.xcp, 'UserTags', [...tags.userTags]);
  editor.write(NS.xcp, 'RemovedTags', [...tags.removedTags]);
  editor.write(NS.xcp, 'Predictions', tags.predictions.map((p) => `${p.index}|${p.label}|${p.score.toFixed(6)}`), 'Seq');
  return editor.apply();
}
