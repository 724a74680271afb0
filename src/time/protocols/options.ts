import { fail } from '../../params/errors.js';

/** β = 0.5 and interpolation 0.5 as in the released fomo_in_flux configs. */
export const DEFAULT_BETA = 0.5;
export const DEFAULT_ALPHA = 0.5;

export function checkBeta(beta: number, what: string): number {
  if (!Number.isFinite(beta) || beta <= 0 || beta > 1)
    fail('CONFIG', `${what}: EMA beta must be in (0, 1], got ${beta}`);
  return beta;
}

export function checkAlpha(alpha: number, what: string): number {
  if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1)
    fail('CONFIG', `${what}: paint alpha must be in [0, 1], got ${alpha}`);
  return alpha;
}

/** A numeric option of a method name (`ema:0.3`). */
export function parseNumber(text: string, what: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v)) fail('CONFIG', `${what}: "${text}" is not a number`);
  return v;
}

/** The CONFIG error for options given to a protocol that takes none. */
export function noOptions(what: string, options: readonly string[]): void {
  if (options.length) fail('CONFIG', `${what} takes no options, got "${options.join(':')}"`);
}

/** A protocol option in [0, 1] (opcm's and dop's alpha); `option` names it in the error. */
export function checkUnitOption(v: number, what: string, option: string): number {
  if (!Number.isFinite(v) || v < 0 || v > 1) fail('CONFIG', `${what}: ${option} must be in [0, 1], got ${v}`);
  return v;
}
