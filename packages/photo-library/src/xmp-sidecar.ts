import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { PhotoTag, Prediction } from './types.js';
import { SidecarUnreadableError } from './errors.js';

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

type XNode = Record<string, unknown>;
type Scope = ReadonlyMap<string, string>;

const OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Keep every byte of other tools' content: no trimming, no number parsing, comments kept.
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: true,
  htmlEntities: false,
  commentPropName: '#comment',
  cdataPropName: '#cdata',
  ignoreDeclaration: false,
  ignorePiTags: false,
} as const;

const parser = new XMLParser(OPTIONS);
const builder = new XMLBuilder({ ...OPTIONS, format: false, suppressEmptyNode: false, suppressBooleanAttributes: false });

const ATTRS = ':@';
const nameOf = (node: XNode): string | undefined => Object.keys(node).find((k) => k !== ATTRS);
const kids = (node: XNode): XNode[] => (node[nameOf(node)!] as XNode[] | undefined) ?? [];
const attrs = (node: XNode): Record<string, string> => (node[ATTRS] as Record<string, string> | undefined) ?? {};
const isElement = (node: XNode): boolean => {
  const name = nameOf(node);
  return name !== undefined && !name.startsWith('#') && !name.startsWith('?');
};

function scopeOf(node: XNode, outer: Scope): Scope {
  let scope: Map<string, string> | null = null;
  for (const [key, value] of Object.entries(attrs(node))) {
    if (key.startsWith('@_xmlns:')) {
      scope ??= new Map(outer);
      scope.set(key.slice('@_xmlns:'.length), value);
    }
  }
  return scope ?? outer;
}

/** Namespace URI and local name of a qualified name, resolved in scope. */
function resolveName(qname: string, scope: Scope): [string | undefined, string] {
  const colon = qname.indexOf(':');
  if (colon < 0) return [undefined, qname];
  return [scope.get(qname.slice(0, colon)), qname.slice(colon + 1)];
}

function prefixFor(uri: string, scope: Scope): string | undefined {
  for (const [prefix, bound] of scope) if (bound === uri) return prefix;
  return undefined;
}

interface Description {
  node: XNode;
  scope: Scope;
}

interface Document {
  nodes: XNode[];
  rdf: XNode;
  rdfScope: Scope;
  descriptions: Description[];
}

function findRdf(nodes: XNode[], scope: Scope): { rdf: XNode; scope: Scope } | null {
  for (const node of nodes) {
    if (!isElement(node)) continue;
    const inner = scopeOf(node, scope);
    const [uri, local] = resolveName(nameOf(node)!, inner);
    if (uri === XMP_NAMESPACES.rdf && local === 'RDF') return { rdf: node, scope: inner };
    const found = findRdf(kids(node), inner);
    if (found) return found;
  }
  return null;
}

function parseDocument(xml: string, path: string): Document {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new SidecarUnreadableError(path, `line ${valid.err.line}: ${valid.err.msg}`);
  let nodes: XNode[];
  try {
    nodes = parser.parse(xml) as XNode[];
  } catch (error) {
    throw new SidecarUnreadableError(path, 'the XML parser rejected it', error);
  }
  const found = findRdf(nodes, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]));
  if (!found) throw new SidecarUnreadableError(path, 'it has no rdf:RDF element');
  const descriptions: Description[] = [];
  for (const node of kids(found.rdf)) {
    if (!isElement(node)) continue;
    const scope = scopeOf(node, found.scope);
    const [uri, local] = resolveName(nameOf(node)!, scope);
    if (uri === XMP_NAMESPACES.rdf && local === 'Description') descriptions.push({ node, scope });
  }
  return { nodes, rdf: found.rdf, rdfScope: found.scope, descriptions };
}

const EMPTY_PACKET = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="xception-desktop">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

interface Property {
  description: Description;
  node: XNode;
  scope: Scope;
}

function findProperty(doc: Document, uri: string, local: string): Property | null {
  for (const description of doc.descriptions) {
    for (const node of kids(description.node)) {
      if (!isElement(node)) continue;
      const scope = scopeOf(node, description.scope);
      const [u, l] = resolveName(nameOf(node)!, scope);
      if (u === uri && l === local) return { description, node, scope };
    }
  }
  return null;
}

/** A property in attribute form (`<rdf:Description xcp:Model="...">`), with its qualified name. */
function findAttribute(doc: Document, uri: string, local: string): { description: Description; key: string } | null {
  for (const description of doc.descriptions) {
    for (const key of Object.keys(attrs(description.node))) {
      if (key.startsWith('@_xmlns')) continue;
      const [u, l] = resolveName(key.slice(2), description.scope);
      if (u === uri && l === local) return { description, key };
    }
  }
  return null;
}

function textOf(nodes: XNode[]): string {
  return nodes.map((n) => (typeof n['#text'] === 'string' ? n['#text'] : typeof n['#cdata'] === 'string' ? n['#cdata'] : '')).join('');
}

/** The rdf:li values of a Bag/Seq/Alt property (or its text for a simple one). */
function readValues(doc: Document, uri: string, local: string): string[] {
  const property = findProperty(doc, uri, local);
  if (!property) {
    const attribute = findAttribute(doc, uri, local);
    return attribute ? [attrs(attribute.description.node)[attribute.key]!] : [];
  }
  const containers = kids(property.node).filter(isElement);
  if (containers.length === 0) return [textOf(kids(property.node))];
  const values: string[] = [];
  for (const container of containers) {
    for (const li of kids(container)) {
      if (!isElement(li)) continue;
      const [u, l] = resolveName(nameOf(li)!, scopeOf(li, property.scope));
      if (u === XMP_NAMESPACES.rdf && l === 'li') values.push(textOf(kids(li)));
    }
  }
  return values;
}

const PREFERRED: Record<string, string> = { [XMP_NAMESPACES.dc]: 'dc', [XMP_NAMESPACES.lr]: 'lr', [XMP_NAMESPACES.digiKam]: 'digiKam', [XMP_NAMESPACES.xcp]: 'xcp', [XMP_NAMESPACES.rdf]: 'rdf' };

/** The prefix to write a namespace with in a description, declaring it there when needed. */
function ensurePrefix(description: Description, uri: string): string {
  const existing = prefixFor(uri, description.scope);
  if (existing) return existing;
  const wanted = PREFERRED[uri] ?? 'ns';
  let prefix = wanted;
  for (let i = 1; description.scope.has(prefix); i++) prefix = `${wanted}${i}`;
  const attributes = attrs(description.node);
  description.node[ATTRS] = { ...attributes, [`@_xmlns:${prefix}`]: uri };
  description.scope = new Map(description.scope).set(prefix, uri);
  return prefix;
}

function removeProperty(doc: Document, uri: string, local: string): void {
  for (let property = findProperty(doc, uri, local); property; property = findProperty(doc, uri, local)) {
    const list = kids(property.description.node);
    list.splice(list.indexOf(property.node), 1);
  }
  for (let attribute = findAttribute(doc, uri, local); attribute; attribute = findAttribute(doc, uri, local)) {
    const attributes = { ...attrs(attribute.description.node) };
    delete attributes[attribute.key];
    attribute.description.node[ATTRS] = attributes;
  }
}

/** Replaces a property's value in place (keeping its position), or appends it; removes it when empty. */
function writeProperty(doc: Document, uri: string, local: string, values: readonly string[] | string): void {
  const isList = typeof values !== 'string';
  if (isList && values.length === 0) {
    removeProperty(doc, uri, local);
    return;
  }
  const existing = findProperty(doc, uri, local);
  const attribute = existing ? null : findAttribute(doc, uri, local);
  if (attribute) {
    const attributes = { ...attrs(attribute.description.node) };
    delete attributes[attribute.key];
    attribute.description.node[ATTRS] = attributes;
  }
  const description = existing?.description ?? attribute?.description ?? doc.descriptions[0]!;
  const rdf = ensurePrefix(description, XMP_NAMESPACES.rdf);
  // digiKam:TagsList is an rdf:Seq in digiKam's schema; predictions keep their rank order.
  const container = local === 'TagsList' || local === 'Predictions' ? 'Seq' : 'Bag';
  const content: XNode[] = isList
    ? [{ [`${rdf}:${container}`]: values.map((v) => ({ [`${rdf}:li`]: [{ '#text': v }] })) }]
    : [{ '#text': values }];
  if (existing) {
    existing.node[nameOf(existing.node)!] = content;
    return;
  }
  const prefix = ensurePrefix(description, uri);
  const list = kids(description.node);
  if (!description.node[nameOf(description.node)!]) description.node[nameOf(description.node)!] = list;
  list.push({ [`${prefix}:${local}`]: content });
}

const PREDICTION = /^(\d+)\|(.*)\|([0-9.eE+-]+)$/;

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

/**
 * Merges the app's tags into a sidecar's XML (or a fresh packet when `existing` is null) and
 * returns the new XML. Only the app's own entries change: the dc:subject keywords it wrote
 * last time (recorded in xcp:ModelTags / xcp:UserTags) and the lr:hierarchicalSubject /
 * digiKam:TagsList entries under its root. Every other namespace, property, keyword, comment
 * and attribute is carried over as parsed. Throws SidecarUnreadableError rather than
 * replacing a sidecar it cannot parse.
 */
export function mergeSidecar(existing: string | null, tags: SidecarTags, path: string): string {
  const source = existing === null || existing.trim() === '' ? EMPTY_PACKET : existing;
  const doc = parseDocument(source, path);
  if (doc.descriptions.length === 0) {
    const rdf = prefixFor(XMP_NAMESPACES.rdf, doc.rdfScope) ?? 'rdf';
    const node: XNode = { [`${rdf}:Description`]: [], [ATTRS]: { [`@_${rdf}:about`]: '' } };
    kids(doc.rdf).push(node);
    doc.descriptions.push({ node, scope: doc.rdfScope });
  }
  const previousRoot = readValues(doc, XMP_NAMESPACES.xcp, 'Root')[0];
  const previousModel = readValues(doc, XMP_NAMESPACES.xcp, 'ModelTags');
  const previouslyOwned = new Set([...previousModel, ...readValues(doc, XMP_NAMESPACES.xcp, 'UserTags')]);
  // A model keyword the app wrote that is gone from dc:subject was deleted by hand in another
  // tool (digiKam, Lightroom): that is a hand edit too, and the model must not bring it back.
  const existingSubjects = new Set(readValues(doc, XMP_NAMESPACES.dc, 'subject'));
  const removedElsewhere = previousModel.filter((t) => !existingSubjects.has(t) && !tags.removedTags.includes(t));
  if (removedElsewhere.length > 0) {
    const gone = new Set(removedElsewhere);
    tags = { ...tags, modelTags: tags.modelTags.filter((t) => !gone.has(t.name)), removedTags: [...tags.removedTags, ...removedElsewhere] };
  }
  const modelNames = tags.modelTags.map((t) => t.name);
  const owned = unique([...modelNames, ...tags.userTags]);
  const ownedSet = new Set(owned);

  const subjects = readValues(doc, XMP_NAMESPACES.dc, 'subject').filter((s) => !previouslyOwned.has(s) || ownedSet.has(s));
  writeProperty(doc, XMP_NAMESPACES.dc, 'subject', unique([...subjects, ...owned]));

  const ours = (entry: string, separator: string): boolean =>
    entry.startsWith(`${tags.root}${separator}`) || (previousRoot !== undefined && entry.startsWith(`${previousRoot}${separator}`));
  const paths = [...tags.modelTags.map((t) => t.path), ...tags.userTags.map((t) => [t])];
  const hierarchical = readValues(doc, XMP_NAMESPACES.lr, 'hierarchicalSubject').filter((e) => !ours(e, '|'));
  writeProperty(doc, XMP_NAMESPACES.lr, 'hierarchicalSubject', unique([...hierarchical, ...paths.map((p) => [tags.root, ...p].join('|'))]));
  const tagsList = readValues(doc, XMP_NAMESPACES.digiKam, 'TagsList').filter((e) => !ours(e, '/'));
  writeProperty(doc, XMP_NAMESPACES.digiKam, 'TagsList', unique([...tagsList, ...paths.map((p) => [tags.root, ...p].join('/'))]));

  writeProperty(doc, XMP_NAMESPACES.xcp, 'Root', tags.root);
  if (tags.model !== null) writeProperty(doc, XMP_NAMESPACES.xcp, 'Model', tags.model);
  writeProperty(doc, XMP_NAMESPACES.xcp, 'ModelTags', modelNames);
  writeProperty(doc, XMP_NAMESPACES.xcp, 'ModelScores', tags.modelTags.map((t) => `${t.name}|${(t.score ?? 0).toFixed(4)}`));
  writeProperty(doc, XMP_NAMESPACES.xcp, 'UserTags', [...tags.userTags]);
  writeProperty(doc, XMP_NAMESPACES.xcp, 'RemovedTags', [...tags.removedTags]);
  writeProperty(doc, XMP_NAMESPACES.xcp, 'Predictions', tags.predictions.map((p) => `${p.index}|${p.label}|${p.score.toFixed(6)}`));
  return builder.build(doc.nodes) as string;
}
