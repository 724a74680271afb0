import { fail } from '../params/errors.js';

/**
 * Temporal weightings for merge-all: a weight f(i) for expert i = 1 (oldest) .. t (newest); reverse-*
 * gives expert i the weight f(t + 1 - i) instead, favouring the oldest.
 */
export const BASE_WEIGHTINGS = ['uniform', 'linear', 'sqrt', 'quadratic', 'cubic', 'fifth', 'tenth', 'exp', 'log'] as const;
export type BaseWeighting = (typeof BASE_WEIGHTINGS)[number];
export type TemporalWeighting = BaseWeighting | `reverse-${BaseWeighting}`;
export const TEMPORAL_WEIGHTINGS: readonly TemporalWeighting[] = [...BASE_WEIGHTINGS, ...BASE_WEIGHTINGS.map((w) => `reverse-${w}` as const)];

export type InitProtocol = 'base' | 'last' | 'merge-all' | 'ema' | 'paint' | 'deployed';
export const INIT_PROTOCOLS: readonly InitProtocol[] = ['base', 'last', 'merge-all', 'ema', 'paint', 'deployed'];

/** Where an EMA starts: e_0 = θ0 (ema_paint), or e_1 = θs_1 (the double_merge presets). */
export type EmaSeed = 'base' | 'first';

export type DeployProtocol =
  | { readonly kind: 'last' }
  | { readonly kind: 'merge-all'; readonly includeBase: boolean; readonly weighting: TemporalWeighting }
  | { readonly kind: 'ema'; readonly beta: number; readonly seed: EmaSeed }
  | { readonly kind: 'paint'; readonly alpha?: number };
export type DeployKind = DeployProtocol['kind'];
export const DEPLOY_KINDS: readonly DeployKind[] = ['last', 'merge-all', 'ema', 'paint'];

/** Options of the init protocols that merge (merge-all, ema, paint); defaults as in DEFAULT_INIT_OPTIONS. */
export interface InitOptions {
  /** merge-all init: temporal weighting of θs_1..θs_{t-1}. */
  readonly weighting?: TemporalWeighting;
  /** merge-all init: include θ0 as the oldest model. */
  readonly includeBase?: boolean;
  /** ema init: weight of the newest expert. */
  readonly beta?: number;
  readonly seed?: EmaSeed;
  /** paint init: weight of the last expert (θ0 gets 1 - alpha). */
  readonly alpha?: number;
}

/** β = 0.5 and interpolation 0.5 as in the released fomo_in_flux configs. */
export const DEFAULT_BETA = 0.5;
export const DEFAULT_ALPHA = 0.5;

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

export function checkBeta(beta: number, what: string): number {
  if (!Number.isFinite(beta) || beta <= 0 || beta > 1) fail('CONFIG', `${what}: EMA beta must be in (0, 1], got ${beta}`);
  return beta;
}

export function checkAlpha(alpha: number, what: string): number {
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) fail('CONFIG', `${what}: paint alpha must be in [0, 1], got ${alpha}`);
  return alpha;
}
