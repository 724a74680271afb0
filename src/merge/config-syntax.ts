import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { didYouMean } from '../params/did-you-mean.js';
import { fail, TimeMergeError } from '../params/errors.js';
import { JsonNumber, JsonObject, parseStrictJson, type JsonValue } from '../params/strict-json.js';

// The yaml package, loaded on first use: it is dozens of module files (about 30 ms at start-up unbundled),
// and JSON configs need none of it. loadYaml loads it with import(), which the bundled CLI serves from one
// chunk (readConfigText and the built-in studies call it first); a parse without it loads it with require().
type Yaml = typeof import('yaml');
let yaml: Yaml | undefined;
const YAML = (): Yaml => (yaml ??= createRequire(import.meta.url)('yaml') as Yaml);

/** Loads yaml ahead of the synchronous parses below. */
export async function loadYaml(): Promise<void> {
  // yaml is CommonJS: its module.exports is the default export, under Node and in the bundle alike.
  yaml ??= ((await import('yaml')) as unknown as { default: Yaml }).default;
}

/** The syntax of a config file: JSON for a .json name, else YAML (which also reads JSON). */
export type ConfigFormat = 'yaml' | 'json';

export function formatOf(path: string): ConfigFormat {
  return extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
}

/** A config file's text; a missing or unreadable file is an IO error naming it and what it was for. */
export async function readConfigText(path: string, what: string): Promise<string> {
  if (formatOf(path) === 'yaml') await loadYaml();
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new TimeMergeError('IO', `${path}: cannot read ${what}: ${reason}`, { cause: err });
  }
}

/**
 * Parses config text into a mapping (duplicate YAML keys are errors); anything else is a CONFIG error
 * prefixed with `source`. `expected` says what the mapping holds, for the message.
 */
export function parseConfigMapping(
  text: string,
  format: ConfigFormat | undefined,
  source: string,
  expected: string,
): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = format === 'json' ? plainJson(parseStrictJson(text), source) : parseYamlData(text, source);
  } catch (err) {
    if (err instanceof TimeMergeError) throw err;
    fail(
      'CONFIG',
      `${source}: not valid ${format === 'json' ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (!isPlainObject(raw)) fail('CONFIG', `${source}: ${expected}`);
  return raw;
}

/**
 * A strictly parsed JSON value as plain data, refusing a key given twice in one object (JSON.parse
 * would keep the last silently; YAML configs refuse it too), with the path of that object.
 */
function plainJson(v: JsonValue, source: string, path = ''): unknown {
  if (v instanceof JsonNumber) return Number(v.text);
  if (Array.isArray(v)) return v.map((x, i) => plainJson(x, source, `${path}[${i}]`));
  if (!(v instanceof JsonObject)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of v.entries) {
    if (Object.hasOwn(out, k))
      fail('CONFIG', `${source}: key "${k}" appears twice in ${path === '' ? 'the top-level mapping' : path}`);
    Object.defineProperty(out, k, {
      value: plainJson(x, source, path === '' ? k : `${path}.${k}`),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Any key outside `known` is a CONFIG error listing the known ones. */
export function checkKeys(obj: Record<string, unknown>, known: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!known.includes(key))
      fail('CONFIG', `${prefix} "${key}"${didYouMean(key, known)} (known: ${known.join(', ')})`);
  }
}

/** A mapping as configs hold them: not an array, nor a Set, Map, Date or buffer that YAML tags make. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What a YAML tag made, for the message refusing it. */
function yamlKind(v: object): string {
  if (v instanceof Set) return 'set (!!set)';
  if (v instanceof Map) return 'ordered map (!!omap)';
  if (v instanceof Date) return 'timestamp (!!timestamp)';
  if (v instanceof Uint8Array) return 'binary value (!!binary)';
  return v.constructor?.name ?? 'tagged value';
}

/**
 * YAML text as plain data: mappings, lists, strings, numbers, booleans and null. YAML's tags make other
 * things: `parameters: !!set {a, b}` read as a Set, which has no keys, so the merge ran with defaults. A
 * tag that makes anything else, an unknown tag, or a mapping key that is itself a collection is a CONFIG
 * error naming where it is.
 */
export function parseYamlData(text: string, source: string): unknown {
  const doc = YAML().parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) throw doc.errors[0];
  const warning = doc.warnings[0];
  if (warning) fail('CONFIG', `${source}: ${warning.message.split('\n')[0]}`);
  const walk = (v: unknown, path: string): void => {
    if (typeof v !== 'object' || v === null) return;
    const where = path === '' ? 'the document' : path;
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (isPlainObject(v)) for (const [k, x] of Object.entries(v)) walk(x, path === '' ? k : `${path}.${k}`);
    else fail('CONFIG', `${source}: ${where}: a YAML ${yamlKind(v)} is not a config value (use a mapping or a list)`);
  };
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  walk(data, '');
  return data;
}
