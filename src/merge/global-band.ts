import { fail } from '../params/errors.js';
import { sub } from '../params/kernels.js';
import type { TensorSource } from '../params/source.js';
import { prepareGlobalTrim } from './global-trim.js';
import { electSigns, signTotal, type Election } from './sign.js';

/**
 * fomo_in_flux's Breadcrumbs band over the flattened model: per expert, with n the model's size, keep
 * every |τ| between the (bottom+1)-th smallest and the (top+1)-th largest magnitude, both included
 * (its `>= min_threshold & <= max_threshold`, so values tied at a threshold all stay).
 */
export interface GlobalBand {
  readonly lo: readonly number[];
  readonly hi: readonly number[];
  /** Σ of elected signs over the banded model (present when asked for: majority / minority tie rules). */
  readonly signTotal?: number;
}

export async function prepareGlobalBand(
  base: TensorSource,
  experts: readonly TensorSource[],
  counts: (total: number, k: number) => { bottom: number; top: number },
  election?: { weights: readonly number[]; method: Election },
): Promise<GlobalBand> {
  const check = (total: number, k: number) => {
    const c = counts(total, k);
    if (c.bottom + c.top >= total)
      fail(
        'MERGE',
        `breadcrumbs: dropping ${c.bottom} + ${c.top} of the model's ${total} values leaves none (fomo_in_flux raises here too)`,
      );
    return c;
  };
  const lo = await prepareGlobalTrim(base, experts, { count: (total, k) => total - check(total, k).bottom });
  const hi = await prepareGlobalTrim(base, experts, { count: (total, k) => check(total, k).top + 1 });
  const band = { lo: lo.thresholds, hi: hi.thresholds };
  if (!election) return band;
  let total = 0;
  for (const info of base.tensorInfos()) {
    const taus = await bandedTaskVectors(base, experts, info.name, band);
    const s = new Int8Array(taus[0]?.length ?? 0);
    electSigns(taus, election.weights, election.method, s);
    total += signTotal(s);
  }
  return { ...band, signTotal: total };
}

/** τ_k of one tensor with the band applied. */
async function bandedTaskVectors(
  base: TensorSource,
  experts: readonly TensorSource[],
  name: string,
  band: Pick<GlobalBand, 'lo' | 'hi'>,
): Promise<Float32Array[]> {
  const b = await base.read(name);
  const xs = await Promise.all(experts.map((e) => e.read(name)));
  return xs.map((x, k) => {
    const t = new Float32Array(b.length);
    sub(t, x, b);
    applyBand(t, band.lo[k], band.hi[k]);
    return t;
  });
}

/** Zeroes, in place, every value whose magnitude lies outside [lo, hi]. */
export function applyBand(t: Float32Array, lo: number, hi: number): void {
  for (let i = 0; i < t.length; i++) {
    const a = Math.abs(t[i]);
    if (!(a >= lo && a <= hi)) t[i] = 0;
  }
}
