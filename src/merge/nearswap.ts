import { allocateOutput } from '../params/kernels.js';
import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = {
  t: num(
    0.0001,
    "Distance scale: an element of the expert within t of θ0 is taken whole, one farther away in proportion t/|x − θ0| (mergekit t, which it requires; 0.0001 as in NearSwap's reference merge).",
  ),
};
type Params = ParamsOf<typeof specs>;

const f = Math.fround;

/**
 * NearSwap (mergekit `nearswap`): per element w = clamp(t / max(|θ0 − x|, 1e-6), 0, 1), result
 * w·x + (1 − w)·θ0, in float32 as torch computes it. Two models: base and one expert; weights ignored.
 */
export const nearswap: MergeTechnique<Params> = {
  name: 'nearswap',
  summary: 'Per element w = clamp(t/|x − θ0|, 0, 1): w·x + (1 − w)·θ0, so values near θ0 take the expert; one expert.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits: 'mergekit `nearswap` (base_model and one other model; `t` required there)',
    // One expert interpolated towards θ0: merging copies of it does not return it.
    laws: {},
  },
  dialects: {
    mergekit: {
      method: 'nearswap',
      globals: { t: undefined },
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: (g) => ({ t: g.t }),
    },
  },
  experts: { min: 1, max: 1 },
  parse(raw) {
    const p = parseParams('nearswap', specs, raw);
    requireRange('nearswap', 't', p.t, 0, Infinity);
    return p;
  },
  merge({ base, experts, out: into }, p) {
    const x = experts[0];
    const t = f(p.t);
    const out = into ?? allocateOutput(base.length);
    for (let i = 0; i < base.length; i++) {
      const a = base[i];
      const b = x[i];
      const w = Math.min(1, Math.max(0, f(t / Math.max(Math.abs(f(a - b)), f(1e-6)))));
      out[i] = f(f(w * b) + f(f(1 - w) * a));
    }
    return out;
  },
};
