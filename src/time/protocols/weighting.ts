import { fail } from '../../params/errors.js';

/**
 * Temporal weightings for merge-all: a weight f(i) for expert i = 1 (oldest) .. t (newest); reverse-*
 * gives expert i the weight f(t + 1 - i) instead, favouring the oldest.
 */
export const BASE_WEIGHTINGS = [
  'uniform',
  'linear',
  'sqrt',
  'quadratic',
  'cubic',
  'fifth',
  'tenth',
  'exp',
  'log',
] as const;
export type BaseWeighting = (typeof BASE_WEIGHTINGS)[number];
export type TemporalWeighting = BaseWeighting | `reverse-${BaseWeighting}`;
export const TEMPORAL_WEIGHTINGS: readonly TemporalWeighting[] = [
  ...BASE_WEIGHTINGS,
  ...BASE_WEIGHTINGS.map((w) => `reverse-${w}` as const),
];

/** Unnormalised weight of the item at position i (1-based) among t items. */
export function rawTemporalWeight(kind: TemporalWeighting, i: number, t: number): number {
  if (!Number.isInteger(i) || i < 1 || i > t) fail('CONFIG', `temporal weight: position ${i} is outside 1..${t}`);
  const reverse = kind.startsWith('reverse-');
  const base = (reverse ? kind.slice('reverse-'.length) : kind) as BaseWeighting;
  const k = reverse ? t + 1 - i : i;
  switch (base) {
    case 'uniform':
      return 1;
    case 'linear':
      return k;
    case 'sqrt':
      return Math.sqrt(k);
    case 'quadratic':
      return k ** 2;
    case 'cubic':
      return k ** 3;
    case 'fifth':
      return k ** 5;
    case 'tenth':
      return k ** 10;
    case 'exp':
      return 2 ** (k - 1);
    case 'log':
      return Math.log(k + 1);
    default:
      return fail('CONFIG', `unknown temporal weighting "${kind}" (known: ${TEMPORAL_WEIGHTINGS.join(', ')})`);
  }
}

/** Weights of t items, oldest first, normalised to sum 1. */
export function temporalWeights(kind: TemporalWeighting, t: number): number[] {
  if (!Number.isInteger(t) || t < 1) fail('CONFIG', `temporal weights need at least one model, got ${t}`);
  checkWeighting(kind);
  const raw = Array.from({ length: t }, (_, j) => rawTemporalWeight(kind, j + 1, t));
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

/**
 * True when an item's unnormalised weight does not depend on how many items follow it, so a running
 * weighted mean can absorb new experts without revisiting old ones. reverse-* (other than uniform) is not.
 */
export function isPrefixStable(kind: TemporalWeighting): boolean {
  return !kind.startsWith('reverse-') || kind === 'reverse-uniform';
}

export function checkWeighting(kind: string): TemporalWeighting {
  if (!(TEMPORAL_WEIGHTINGS as readonly string[]).includes(kind)) {
    fail('CONFIG', `unknown temporal weighting "${kind}" (known: ${TEMPORAL_WEIGHTINGS.join(', ')})`);
  }
  return kind as TemporalWeighting;
}
