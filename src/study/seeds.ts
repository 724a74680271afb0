import { fail } from '../params/errors.js';

/**
 * The most seeds one study or --seeds list may name. A range is expanded into a list before anything runs;
 * `0-99999999999` used to fail with a RangeError and `0-100000000` to run out of memory minutes later,
 * so a range is measured before it is expanded. Ten thousand seeds of even the smallest study are days
 * of runs: more is a typo.
 */
export const MAX_SEEDS = 10_000;

/** The seeds of `a-b` (both ends included), refused before expanding when there are more than MAX_SEEDS. */
export function seedRange(text: string, where: string): number[] {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  if (!m) fail('CONFIG', `${where}: "${text}" is not a range like 0-4`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b))
    fail('CONFIG', `${where}: range "${text}" goes past the largest seed, ${Number.MAX_SAFE_INTEGER}`);
  if (b < a) fail('CONFIG', `${where}: range "${text}" is empty`);
  checkSeedCount(b - a + 1, where);
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

/** Refuses a seed list longer than MAX_SEEDS. */
export function checkSeedCount(n: number, where: string): void {
  if (n > MAX_SEEDS) fail('CONFIG', `${where}: ${n} seeds; at most ${MAX_SEEDS} are accepted`);
}
