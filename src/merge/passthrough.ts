import { allocateOutput } from '../params/kernels.js';
import { num, paramDocs, parseParams, type ParamsOf } from './params.js';
import type { MergeTechnique } from './types.js';

const specs = { scale: num(1, 'Factor on every value of the model (mergekit per-model scale).') };
type Params = ParamsOf<typeof specs>;

/** One model, copied through (times `scale`): mergekit `passthrough` over a models list. θ0 is not read. */
export const passthrough: MergeTechnique<Params> = {
  name: 'passthrough',
  summary: 'The one model given, times scale (mergekit passthrough); θ0 not read.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: false,
    perModel: ['scale'],
    kernels: [],
    toolkits:
      'mergekit `passthrough` with one model (per-model `scale`), and its usual use: layer `slices` stacked into a frankenmerge',
    laws: { idempotent: [{}] },
  },
  dialects: {
    mergekit: {
      method: 'passthrough',
      globals: {},
      perModel: { scale: 1 },
      base: 'unused',
      weights: 'free',
      params: () => ({}),
      expert: (v) => ({ scale: v.scale as number }),
    },
  },
  experts: { min: 1, max: 1 },
  parse: (raw) => parseParams('passthrough', specs, raw),
  merge({ experts, expertParams, out: into }, p) {
    const x = experts[0];
    const s = expertParams?.[0]?.scale ?? p.scale;
    const out = into ?? allocateOutput(x.length);
    if (s === 1) out.set(x);
    else for (let i = 0; i < x.length; i++) out[i] = x[i] * s;
    return out;
  },
};
