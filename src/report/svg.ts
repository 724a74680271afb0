/**
 * Just enough XML to check and inspect the SVG the report writes: a parser for well-formed SVG (elements,
 * attributes, text; no DTDs), mark counting by vega mark name, and id prefixing for inline embedding.
 */
import { fail } from '../params/errors.js';
import { own } from '../params/own.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return own(ENTITIES, e) ?? m;
  });
}

/** Parses one XML document and returns its root element; malformed input is a DATA error naming `what`. */
export function parseXml(xml: string, what = 'SVG'): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const tag =
    /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[([\s\S]*?)\]\]>|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(xml)) !== null) {
    const between = xml.slice(last, m.index);
    if (between.includes('<'))
      fail(
        'DATA',
        `${what}: malformed markup near "${between.slice(between.indexOf('<'), between.indexOf('<') + 40)}"`,
      );
    stack[stack.length - 1].text += decode(between);
    last = tag.lastIndex;
    if (m[0].startsWith('<!--') || m[0].startsWith('<?')) continue;
    if (m[1] !== undefined) {
      stack[stack.length - 1].text += m[1];
      continue;
    }
    const [, , closing, name, attrText, selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open === undefined || open.name !== name || stack.length === 0)
        fail('DATA', `${what}: closing tag </${name}> does not match <${open?.name}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]] = decode(a[2] ?? a[3]);
    const el: XmlElement = { name, attrs, children: [], text: '' };
    stack[stack.length - 1].children.push(el);
    if (!selfClosing) stack.push(el);
  }
  if (xml.slice(last).includes('<')) fail('DATA', `${what}: malformed markup at the end`);
  if (stack.length !== 1) fail('DATA', `${what}: element <${stack[stack.length - 1].name}> is never closed`);
  if (root.children.length !== 1) fail('DATA', `${what}: expected one root element, found ${root.children.length}`);
  return root.children[0];
}

export function* walk(el: XmlElement): Generator<XmlElement> {
  yield el;
  for (const c of el.children) yield* walk(c);
}

/**
 * The items of the vega mark named `name` (a vega-lite unit with `name: X` renders its marks in a group
 * with class `X_marks`): one element per point, rect, line or text drawn.
 */
export function markItems(root: XmlElement, name: string): XmlElement[] {
  const items: XmlElement[] = [];
  for (const el of walk(root)) {
    const classes = (el.attrs.class ?? '').split(/\s+/);
    if (el.name === 'g' && classes.includes('role-mark') && classes.includes(`${name}_marks`))
      items.push(...el.children);
  }
  return items;
}

/**
 * Renumbers ids in order of definition (vega numbers clip paths from a process-wide counter, so the same
 * figure drawn twice would differ); the same data then always gives byte-identical SVG files.
 */
export function normalizeSvgIds(svg: string): string {
  const map = new Map<string, string>();
  for (const m of svg.matchAll(/\bid="([^"]+)"/g)) if (!map.has(m[1])) map.set(m[1], `c${map.size + 1}`);
  const to = (id: string): string => map.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${to(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${to(id)})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${to(id)}"`);
}

/**
 * Makes element ids unique per figure, so several vega SVGs (which all number their clip paths from 1)
 * can sit inline in one HTML page without one figure's url(#clip1) pointing at another's.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${prefix}-${id}"`);
}
