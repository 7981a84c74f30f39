/**
 * A small XML model for Metadata API files and SOAP bodies. Metadata types serialize their
 * properties in XSD sequence order, which for nearly every type is `fullName` (inherited from
 * Metadata) followed by the rest in alphabetical order; `record()` builds nodes in that order so
 * the renderers can describe components as plain objects.
 */

import { XMLParser } from 'fast-xml-parser';

export type XmlContent = string | number | boolean | null | XmlNode[];

export interface XmlNode {
  name: string;
  content: XmlContent;
  attributes?: Record<string, string>;
}

/** A value `record()` turns into nodes: nested objects become child elements, arrays repeat. */
export type XmlValue = string | number | boolean | null | XmlNode[] | XmlRecord;
export interface XmlRecord {
  [name: string]: XmlValue | XmlValue[] | undefined;
}

export const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata';

export function node(name: string, content: XmlContent, attributes?: Record<string, string>): XmlNode {
  return attributes ? { name, content, attributes } : { name, content };
}

/**
 * Nodes for a record: the `first` keys in that order, then the rest alphabetically. Undefined
 * values are left out; an array repeats its element; nested records are ordered the same way.
 */
export function record(value: XmlRecord, first: readonly string[] = ['fullName']): XmlNode[] {
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  const head = first.filter((k) => keys.includes(k));
  const tail = keys.filter((k) => !first.includes(k)).sort(compareNames);
  const nodes: XmlNode[] = [];
  for (const key of [...head, ...tail]) {
    const v = value[key]!;
    for (const item of Array.isArray(v) && !isNodeList(v) ? v : [v as XmlValue]) nodes.push(node(key, contentOf(item)));
  }
  return nodes;
}

function isNodeList(value: unknown[]): value is XmlNode[] {
  return value.length > 0 && value.every((v) => typeof v === 'object' && v !== null && 'name' in v && 'content' in v);
}

function contentOf(value: XmlValue): XmlContent {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value;
  return record(value);
}

/** Salesforce sorts element names case-sensitively (ASCII), as its XSDs list them. */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function attributesOf(attributes: Record<string, string> | undefined): string {
  if (!attributes) return '';
  return Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeXml(v)}"`).join('');
}

/** Compact XML, for SOAP envelopes. A null content is `xsi:nil`. */
export function renderCompact(nodes: readonly XmlNode[]): string {
  let out = '';
  for (const n of nodes) {
    const attrs = attributesOf(n.attributes);
    if (n.content === null) out += `<${n.name}${attrs} xsi:nil="true"/>`;
    else if (Array.isArray(n.content)) out += n.content.length ? `<${n.name}${attrs}>${renderCompact(n.content)}</${n.name}>` : `<${n.name}${attrs}/>`;
    else out += `<${n.name}${attrs}>${escapeXml(String(n.content))}</${n.name}>`;
  }
  return out;
}

/** Indented XML as retrieved metadata files have it: four spaces per level, one element a line. */
export function renderPretty(nodes: readonly XmlNode[], depth = 0): string {
  const pad = '    '.repeat(depth);
  let out = '';
  for (const n of nodes) {
    const attrs = attributesOf(n.attributes);
    if (n.content === null) out += `${pad}<${n.name}${attrs} xsi:nil="true"/>\n`;
    else if (Array.isArray(n.content)) {
      out += n.content.length ? `${pad}<${n.name}${attrs}>\n${renderPretty(n.content, depth + 1)}${pad}</${n.name}>\n` : `${pad}<${n.name}${attrs}/>\n`;
    } else out += `${pad}<${n.name}${attrs}>${escapeXml(String(n.content))}</${n.name}>\n`;
  }
  return out;
}

/** A metadata file: the XML declaration and a root element in the metadata namespace. */
export function metadataFile(root: string, body: readonly XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${METADATA_NS}">\n${renderPretty(body, 1)}</${root}>\n`;
}

type Ordered = Record<string, unknown>;

/**
 * The root element name and body of a metadata file, element order kept. Used for components the
 * emulator stores as files (flows), so readMetadata can return them like generated ones.
 */
export function parseMetadataFile(text: string): { root: string; body: XmlNode[] } {
  const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, parseTagValue: false, trimValues: true });
  const top = (parser.parse(text) as Ordered[]).find((entry) => !Object.keys(entry).some((k) => k.startsWith('?')));
  const root = top ? Object.keys(top).find((k) => k !== ':@') : undefined;
  if (!top || !root) throw new Error('not a metadata file: no root element');
  return { root, body: toNodes(top[root] as Ordered[]) };
}

function toNodes(entries: Ordered[]): XmlNode[] {
  const nodes: XmlNode[] = [];
  for (const entry of entries) {
    const name = Object.keys(entry).find((k) => k !== ':@');
    if (!name || name === '#text') continue;
    const children = entry[name] as Ordered[];
    const text = children.length === 1 && '#text' in children[0]! ? String(children[0]!['#text']) : undefined;
    nodes.push(node(name, text ?? toNodes(children)));
  }
  return nodes;
}
