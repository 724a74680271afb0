import { fail } from '../params/errors.js';
import { didYouMean } from '../params/did-you-mean.js';
import type { ParamDoc } from './types.js';

/**
 * A technique's parameters, declared once: each entry's type, default and description drive parsing,
 * `time-merge techniques`, the README table and the TypeScript type of the parsed parameters
 * (ParamsOf), so no declaration is written twice.
 */
export interface NumberSpec {
  readonly type: 'number' | 'integer';
  readonly default: number;
  readonly description: string;
}
export interface BooleanSpec {
  readonly type: 'boolean';
  readonly default: boolean;
  readonly description: string;
}
export interface StringSpec {
  readonly type: 'string';
  readonly default: string;
  readonly description: string;
  /** How the default reads in the technique table, when the value itself is too long (a regex). */
  readonly shown?: string;
}
export interface EnumSpec<V extends string = string> {
  readonly type: 'enum';
  readonly values: readonly V[];
  readonly default: V;
  readonly description: string;
}
export type ParamSpec = NumberSpec | BooleanSpec | StringSpec | EnumSpec;
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

type ValueOf<S> =
  S extends EnumSpec<infer V> ? V : S extends NumberSpec ? number : S extends BooleanSpec ? boolean : string;
/** The parsed parameters a declaration describes. */
export type ParamsOf<D extends ParamSpecs> = { -readonly [K in keyof D]: ValueOf<D[K]> };

export const num = (value: number, description: string): NumberSpec => ({
  type: 'number',
  default: value,
  description,
});
export const int = (value: number, description: string): NumberSpec => ({
  type: 'integer',
  default: value,
  description,
});
export const bool = (value: boolean, description: string): BooleanSpec => ({
  type: 'boolean',
  default: value,
  description,
});
export const str = (value: string, description: string, shown?: string): StringSpec => ({
  type: 'string',
  default: value,
  description,
  ...(shown ? { shown } : {}),
});
export function oneOf<V extends string>(values: readonly V[], value: NoInfer<V>, description: string): EnumSpec<V> {
  return { type: 'enum', values, default: value, description };
}

/** The declaration as the documented list (declaration order). */
export function paramDocs(specs: ParamSpecs): ParamDoc[] {
  return Object.entries(specs).map(([name, s]) => ({ name, ...s }));
}

/**
 * Checks raw technique parameters against their declaration: unknown names, wrong types and enum values
 * are CONFIG errors naming the technique and parameter; missing ones take their declared default.
 * Range checks specific to a technique (density in (0,1], ...) stay in that technique's parse().
 */
export function parseParams<D extends ParamSpecs>(
  technique: string,
  specs: D,
  raw: Record<string, unknown>,
): ParamsOf<D> {
  const names = Object.keys(specs);
  for (const key of Object.keys(raw)) {
    if (!names.includes(key))
      fail(
        'CONFIG',
        `${technique}: unknown parameter "${key}"${didYouMean(key, names)} (known: ${names.length ? names.join(', ') : 'none'})`,
      );
  }
  const out: Record<string, number | boolean | string> = {};
  for (const [name, d] of Object.entries(specs)) {
    const v = raw[name] ?? d.default;
    switch (d.type) {
      case 'number':
      case 'integer':
        if (typeof v !== 'number' || !Number.isFinite(v))
          fail('CONFIG', `${technique}: ${name} must be a finite number, got ${JSON.stringify(v)}`);
        if (d.type === 'integer' && !Number.isInteger(v))
          fail('CONFIG', `${technique}: ${name} must be an integer, got ${v}`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean')
          fail('CONFIG', `${technique}: ${name} must be true or false, got ${JSON.stringify(v)}`);
        break;
      case 'string':
        if (typeof v !== 'string') fail('CONFIG', `${technique}: ${name} must be a string, got ${JSON.stringify(v)}`);
        break;
      case 'enum':
        if (typeof v !== 'string' || !d.values.includes(v))
          fail('CONFIG', `${technique}: ${name} must be one of ${d.values.join(', ')}, got ${JSON.stringify(v)}`);
        break;
    }
    out[name] = v as number | boolean | string;
  }
  return out as ParamsOf<D>;
}

export function requireRange(
  technique: string,
  name: string,
  v: number,
  lo: number,
  hi: number,
  loOpen = false,
  hiOpen = false,
): void {
  const okLo = loOpen ? v > lo : v >= lo;
  const okHi = hiOpen ? v < hi : v <= hi;
  if (!okLo || !okHi) {
    fail('CONFIG', `${technique}: ${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
}
