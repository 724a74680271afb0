import { axpby, dot, sub, sumSquares } from '../params/kernels.js';
import { num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import type { MergeTechnique } from './types.js';

const specs = {
  t: num(0.5, 'Interpolation factor in [0, 1]; 0 gives the first expert, 1 the second.'),
  space: oneOf(
    ['weights', 'task-vectors'],
    'weights',
    'Interpolate the weights themselves (mergekit, FusionBench, fomo_in_flux) or the task vectors, then add θ0.',
  ),
  dotThreshold: num(0.9995, 'Use linear interpolation when |cos| exceeds this (mergekit DOT_THRESHOLD).'),
};
type Params = ParamsOf<typeof specs>;

/**
 * out = slerp(t; v0, v1): spherical interpolation of the directions with the original magnitudes mixed as
 * mergekit does, s0·v0 + s1·v1 with s0 = sin((1-t)Ω)/sin Ω, s1 = sin(tΩ)/sin Ω, cos Ω = v0·v1/(|v0||v1|).
 * Falls back to (1-t)·v0 + t·v1 when |cos Ω| > dotThreshold (near-parallel or antipodal) or when either
 * vector is all zeros (no direction). t = 0 and t = 1 return v0 and v1 exactly.
 */
export function slerpInto(
  out: Float32Array,
  v0: Float32Array,
  v1: Float32Array,
  t: number,
  dotThreshold: number,
): void {
  if (t === 0) {
    out.set(v0);
    return;
  }
  if (t === 1) {
    out.set(v1);
    return;
  }
  const n0 = sumSquares(v0);
  const n1 = sumSquares(v1);
  const cos = n0 === 0 || n1 === 0 ? 1 : dot(v0, v1) / Math.sqrt(n0 * n1);
  if (Math.abs(cos) > dotThreshold) {
    axpby(out, 1 - t, v0, t, v1);
    return;
  }
  const omega = Math.acos(Math.max(-1, Math.min(1, cos)));
  const sinOmega = Math.sin(omega);
  axpby(out, Math.sin((1 - t) * omega) / sinOmega, v0, Math.sin(t * omega) / sinOmega, v1);
}

/** SLERP between exactly two models (mergekit `slerp`; t = 0 gives the first expert). Weights ignored. */
export const slerp: MergeTechnique<Params> = {
  name: 'slerp',
  aliases: [],
  summary:
    'Spherical interpolation between two models by factor t (t = 0: first expert); linear fallback when nearly (anti)parallel.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: ['dot', 'sumSquares', 'axpby', 'sub'],
    toolkits:
      'mergekit `slerp`: base_model is the first expert (t = 0); fomo_in_flux `slerp`: t = the first weight coefficient; FusionBench `slerp/slerp`: its two models, `t`, `DOT_THRESHOLD` → `dotThreshold`',
    laws: { idempotent: [{ t: 0.3 }] },
  },
  dialects: {
    // base_model is the t = 0 end (added when it is not listed under models).
    mergekit: {
      method: 'slerp',
      globals: { t: undefined },
      perModel: {},
      base: 'first-endpoint',
      weights: 'unused',
      params: (g) => ({ t: g.t }),
    },
    // fomo_in_flux's SLERP takes its factor from the first weight coefficient.
    fomo_in_flux: {
      method: 'slerp',
      globals: {},
      perModel: {},
      base: 'unused',
      weights: 'sum-to-one',
      params: (_g, { weights }) => ({ t: weights[0] }),
    },
    // slerp_utils.py: the pool's two models, the first at t = 0; no base model.
    fusion_bench: fusionBench('slerp/slerp', {
      aliases: ['slerp', 'slerp/slerp_lm'],
      base: 'unused',
      globals: { t: 0.5, DOT_THRESHOLD: 0.9995 },
      inert: {
        epsilon:
          'FusionBench leaves a tensor of norm <= epsilon unnormalised; time-merge interpolates an all-zero tensor linearly, whatever the value',
        model_save_path: 'time-merge writes the output the merge command names',
        show_pbar: 'a progress bar; the merged values are the same',
      },
      params: (g) => ({ t: g.t, dotThreshold: g.DOT_THRESHOLD }),
    }),
  },
  experts: { min: 2, max: 2 },
  parse(raw) {
    const p = parseParams('slerp', specs, raw);
    requireRange('slerp', 't', p.t, 0, 1);
    requireRange('slerp', 'dotThreshold', p.dotThreshold, 0, 1);
    return p;
  },
  merge({ base, experts }, p) {
    const out = new Float32Array(base.length);
    if (p.space === 'weights') {
      slerpInto(out, experts[0], experts[1], p.t, p.dotThreshold);
      return out;
    }
    const t0 = new Float32Array(base.length);
    const t1 = new Float32Array(base.length);
    sub(t0, experts[0], base);
    sub(t1, experts[1], base);
    if (p.t === 0) return experts[0].slice();
    if (p.t === 1) return experts[1].slice();
    slerpInto(out, t0, t1, p.t, p.dotThreshold);
    axpby(out, 1, base, 1, out);
    return out;
  },
};
