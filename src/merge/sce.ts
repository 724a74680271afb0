import { allocateOutput } from '../params/kernels.js';
import { taskVectors } from './combine.js';
import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { MERGEKIT_INT8_MASK } from './toolkit-forms.js';
import type { MergeTechnique } from './types.js';

const specs = {
  selectTopk: num(
    1,
    'Fraction of the elements with non-zero variance across experts that are kept, the most variable first, in [0, 1] (mergekit select_topk).',
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * The elements SCE keeps: the int(selectTopk·m) (float32 product, as mergekit) of largest variance across the experts' task vectors
 * (population variance; m = how many have a non-zero variance; equal variances by index), all of them
 * at selectTopk >= 1, none at 0.
 */
export function sceMask(taus: readonly Float32Array[], selectTopk: number): Uint8Array {
  const n = taus[0].length;
  const keep = new Uint8Array(n);
  if (selectTopk >= 1) return keep.fill(1);
  if (selectTopk <= 0) return keep;
  const N = taus.length;
  const variance = new Float64Array(n);
  let nonzero = 0;
  for (let i = 0; i < n; i++) {
    let mean = 0;
    for (const t of taus) mean += t[i];
    mean /= N;
    let v = 0;
    for (const t of taus) v += (t[i] - mean) ** 2;
    variance[i] = v / N;
    if (variance[i] !== 0) nonzero++;
  }
  // mergekit: int(count_nonzero(var) * select_topk), a float32 product (an int64 tensor times a Python
  // float), so 100 x 0.29 keeps 29 where the float64 product (28.999...) would truncate to 28.
  const k = Math.trunc(Math.fround(Math.fround(nonzero) * Math.fround(selectTopk)));
  if (k === 0) return keep;
  // The k-th largest variance (a native sort of a copy), then the elements above it and the first
  // ones equal to it, by index.
  const sorted = Float64Array.from(variance).sort();
  const threshold = sorted[n - k];
  let above = 0;
  for (let i = 0; i < n; i++) if (variance[i] > threshold) above++;
  let ties = k - above;
  for (let i = 0; i < n; i++) {
    if (variance[i] > threshold) keep[i] = 1;
    else if (variance[i] === threshold && ties > 0) {
      keep[i] = 1;
      ties--;
    }
  }
  return keep;
}

/**
 * SCE (Select, Calculate, Erase; Wan et al. 2024, as mergekit implements it): keep the elements whose
 * task-vector values vary most across experts; weight each expert by its mean squared (kept) task
 * vector, normalised (equal when those sum below 1e-6); erase the values whose sign disagrees with the
 * sign of the unweighted sum (a zero sum elects +); θ0 + Σ w_k·v_k / Σ w_k over the agreeing experts.
 * Config weights are ignored: the experts' weights come from their task vectors.
 */
export const sce: MergeTechnique<Params> = {
  name: 'sce',
  summary:
    'Keep the most variable elements, weight experts by mean τ², erase minority signs, weighted mean of the rest: θ0 + merged.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: ['sub'],
    toolkits: 'mergekit `sce` (`select_topk` → `selectTopk`)',
    // Not listed as symmetric: the sign sum of values that cancel to within rounding depends on the order.
    laws: { idempotent: [{}] },
  },
  dialects: {
    mergekit: {
      method: 'sce',
      globals: { select_topk: 1 },
      inert: MERGEKIT_INT8_MASK,
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: (g) => ({ selectTopk: g.select_topk }),
    },
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('sce', specs, raw);
    requireRange('sce', 'selectTopk', p.selectTopk, 0, 1);
    return p;
  },
  merge({ base, experts, out: into }, p) {
    const taus = taskVectors(base, experts);
    const n = base.length;
    const N = taus.length;
    if (p.selectTopk < 1) {
      const keep = sceMask(taus, p.selectTopk);
      for (const t of taus) for (let i = 0; i < n; i++) if (!keep[i]) t[i] = 0;
    }
    const energy = taus.map((t) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += t[i] * t[i];
      return n > 0 ? s / n : 0;
    });
    const total = energy.reduce((a, b) => a + b, 0);
    const w = Math.abs(total) < 1e-6 ? energy.map(() => 1 / N) : energy.map((e) => e / total);
    const out = into ?? allocateOutput(n);
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (const t of taus) sum += t[i];
      const sign = sum >= 0 ? 1 : -1;
      let num = 0;
      let den = 0;
      for (let k = 0; k < N; k++) {
        const v = taus[k][i];
        if (Math.sign(v) === sign) {
          num += v * w[k];
          den += w[k];
        }
      }
      out[i] = base[i] + num / Math.max(den, 1e-6);
    }
    return out;
  },
};
