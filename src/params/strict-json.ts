/**
 * A strict JSON parser (safetensors headers, JSON configs), as strict as the reference reader (serde_json): objects
 * keep every key in text order (duplicates included, so callers can refuse them), numbers keep their text
 * (so `4.0`, `-0` and 2^64 - 1 stay distinguishable from 4, 0 and 2^64), escaped lone surrogates are
 * refused, with `finite` a number past the float64 range (`1e400`) is refused wherever it is, as
 * serde_json refuses it even in a field it ignores (configs read it as Infinity and say so), and nesting stops short of 128 levels (serde_json's recursion limit: the
 * 128th nested array or object is an error) instead of overflowing the stack.
 */

export class JsonNumber {
  constructor(readonly text: string) {}
}

export class JsonObject {
  constructor(readonly entries: readonly (readonly [string, JsonValue])[]) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

/** serde_json's default recursion limit: at most MAX_DEPTH - 1 arrays and objects nested. */
export const MAX_DEPTH = 128;

export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const PLAIN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses one JSON value filling all of `text` (whitespace around it allowed). */
export function parseStrictJson(text: string, options: { finite?: boolean } = {}): JsonValue {
  let i = 0;
  const error = (what: string): never => {
    throw new JsonSyntaxError(`${what} at character ${i}`);
  };
  const skip = () => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const hex4 = (): number => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) error('bad \\u escape');
    i += 4;
    return parseInt(h, 16);
  };
  const string = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      PLAIN.lastIndex = i;
      PLAIN.exec(text);
      out += text.slice(i, PLAIN.lastIndex);
      i = PLAIN.lastIndex;
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === undefined) error('unterminated string');
      if (c !== '\\') error(`control character U+${text.charCodeAt(i).toString(16).padStart(4, '0')} in a string`);
      const e = text[i + 1];
      i += 2;
      if (e !== 'u') {
        if (e === undefined || !Object.hasOwn(ESCAPES, e)) error(`bad escape \\${e ?? ''}`);
        out += ESCAPES[e];
        continue;
      }
      const u = hex4();
      if (u >= 0xdc00 && u <= 0xdfff) error('lone trailing surrogate in a \\u escape');
      if (u >= 0xd800 && u <= 0xdbff) {
        if (text[i] !== '\\' || text[i + 1] !== 'u') error('lone leading surrogate in a \\u escape');
        i += 2;
        const low = hex4();
        if (low < 0xdc00 || low > 0xdfff) error('lone leading surrogate in a \\u escape');
        out += String.fromCharCode(u, low);
      } else {
        out += String.fromCharCode(u);
      }
    }
  };
  const value = (depth: number): JsonValue => {
    skip();
    const c = text[i];
    if (c === '"') return string();
    if (c === '{' || c === '[') {
      if (depth >= MAX_DEPTH - 1) error(`arrays and objects nested ${MAX_DEPTH} levels deep`);
      i++;
      skip();
      const close = c === '{' ? '}' : ']';
      const items: JsonValue[] = [];
      const entries: [string, JsonValue][] = [];
      if (text[i] === close) i++;
      else {
        for (;;) {
          if (c === '{') {
            skip();
            if (text[i] !== '"') error('expected a string key');
            const key = string();
            skip();
            if (text[i] !== ':') error('expected ":"');
            i++;
            entries.push([key, value(depth + 1)]);
          } else {
            items.push(value(depth + 1));
          }
          skip();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === close) {
            i++;
            break;
          }
          error(`expected "," or "${close}"`);
        }
      }
      return c === '{' ? new JsonObject(entries) : items;
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return error(c === undefined ? 'unexpected end' : `unexpected character ${JSON.stringify(c)}`);
    if (options.finite && !Number.isFinite(Number(m[0])))
      error(`number ${m[0].length > 40 ? `${m[0].slice(0, 40)}…` : m[0]} out of range`);
    i = NUMBER.lastIndex;
    return new JsonNumber(m[0]);
  };
  const v = value(0);
  skip();
  if (i < text.length) error('trailing characters after the value');
  return v;
}

/** The value as compact JSON text, cut at about `max` characters (error messages quote bad values). */
export function showJson(v: JsonValue, max = 60): string {
  let out = '';
  const put = (s: string) => {
    out += s;
    return out.length <= max;
  };
  const walk = (x: JsonValue): boolean => {
    if (x === null || typeof x === 'boolean') return put(String(x));
    if (typeof x === 'string') return put(JSON.stringify(x.length > max ? x.slice(0, max) : x));
    if (x instanceof JsonNumber) return put(x.text.length > max ? x.text.slice(0, max) : x.text);
    if (Array.isArray(x)) {
      if (!put('[')) return false;
      for (let k = 0; k < x.length; k++) if ((k > 0 && !put(',')) || !walk(x[k])) return false;
      return put(']');
    }
    if (!put('{')) return false;
    for (let k = 0; k < x.entries.length; k++) {
      const [key, val] = x.entries[k];
      if ((k > 0 && !put(',')) || !put(`${JSON.stringify(key.length > max ? key.slice(0, max) : key)}:`) || !walk(val))
        return false;
    }
    return put('}');
  };
  return walk(v) ? out : `${out.slice(0, max)}…`;
}
