import { fail } from '../params/errors.js';
import { didYouMean } from '../params/did-you-mean.js';
import type { ParamDoc } from './types.js';

type Parsed = Record<string, number | boolean | string>;

/**
 * Checks raw technique parameters against their docs: unknown names, wrong types and enum values are
 * CONFIG errors naming the technique and parameter; missing ones take their documented default.
 * Range checks specific to a technique (density in (0,1], ...) stay in that technique's parse().
 */
export function parseParams(technique: string, docs: readonly ParamDoc[], raw: Record<string, unknown>): Parsed {
  const known = new Set(docs.map((d) => d.name));
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      const list = docs.length ? docs.map((d) => d.name).join(', ') : 'none';
      fail('CONFIG', `${technique}: unknown parameter "${key}"${didYouMean(key, [...known])} (known: ${list})`);
    }
  }
  const out: Parsed = {};
  for (const d of docs) {
    const v = raw[d.name] ?? d.default;
    switch (d.type) {
      case 'number':
      case 'integer':
        if (typeof v !== 'number' || !Number.isFinite(v)) fail('CONFIG', `${technique}: ${d.name} must be a finite number, got ${JSON.stringify(v)}`);
        if (d.type === 'integer' && !Number.isInteger(v)) fail('CONFIG', `${technique}: ${d.name} must be an integer, got ${v}`);
        break;
      case 'boolean':
        if (typeof v !== 'boolean') fail('CONFIG', `${technique}: ${d.name} must be true or false, got ${JSON.stringify(v)}`);
        break;
      case 'string':
        if (typeof v !== 'string') fail('CONFIG', `${technique}: ${d.name} must be a string, got ${JSON.stringify(v)}`);
        break;
      case 'enum':
        if (typeof v !== 'string' || !d.values?.includes(v)) {
          fail('CONFIG', `${technique}: ${d.name} must be one of ${d.values?.join(', ')}, got ${JSON.stringify(v)}`);
        }
        break;
    }
    out[d.name] = v as number | boolean | string;
  }
  return out;
}

export function requireRange(technique: string, name: string, v: number, lo: number, hi: number, loOpen = false, hiOpen = false): void {
  const okLo = loOpen ? v > lo : v >= lo;
  const okHi = hiOpen ? v < hi : v <= hi;
  if (!okLo || !okHi) {
    fail('CONFIG', `${technique}: ${name} must be in ${loOpen ? '(' : '['}${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
}
