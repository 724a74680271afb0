import { allocateOutput } from '../params/kernels.js';
import { int, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { rowLength } from './trim.js';
import type { MergeTechnique } from './types.js';

const specs = {
  sample: int(
    1000000,
    'Quantiles of a tensor with more values than this come from a seeded uniform sample of this many (mergekit samples 1e6 with torch.randperm); 0: from every value.',
  ),
};
type Params = ParamsOf<typeof specs>;

const f = Math.fround;
const EPS = 1e-8;

/**
 * Each element's importance, |x − θ0| times the KL divergence of softmax(x) from softmax(θ0) over its
 * row (the last dimension; a 1-d tensor is one row), each softmax plus 1e-8 (mergekit's eps).
 */
export function fusionImportance(x: Float32Array, base: Float32Array, shape: readonly number[]): Float32Array {
  const n = base.length;
  const len = rowLength(shape, n);
  const out = new Float32Array(n);
  const p = new Float64Array(len);
  const q = new Float64Array(len);
  for (let o = 0; o < n; o += len) {
    softmaxInto(p, x, o);
    softmaxInto(q, base, o);
    let sum = 0;
    for (let i = 0; i < len; i++) sum += p[i] * Math.log(p[i] / q[i]);
    const kl = f(sum);
    for (let i = 0; i < len; i++) out[o + i] = f(Math.abs(f(x[o + i] - base[o + i])) * kl);
  }
  return out;
}

function softmaxInto(into: Float64Array, v: Float32Array, offset: number): void {
  let max = -Infinity;
  for (let i = 0; i < into.length; i++) max = Math.max(max, v[offset + i]);
  let sum = 0;
  for (let i = 0; i < into.length; i++) {
    into[i] = Math.exp(v[offset + i] - max);
    sum += into[i];
  }
  for (let i = 0; i < into.length; i++) into[i] = f(f(into[i] / sum) + EPS);
}

/**
 * mergekit's approximate quantile: the sorted values' entry at int(q·(m − 1)), the product taken in
 * float32 as torch does (q is a float32 tensor).
 */
function quantile(sorted: Float32Array, q: number): number {
  return sorted[Math.trunc(f(f(q) * f(sorted.length - 1)))];
}

/**
 * The values the quantiles come from: all of them, or (more than `sample`) a uniform sample of
 * `sample` distinct elements drawn from the tensor's seeded generator (Floyd's algorithm, so memory
 * is the sample's, not the tensor's).
 */
function quantileValues(importance: Float32Array, sample: number, rng: () => number): Float32Array {
  const n = importance.length;
  if (sample === 0 || n <= sample) return Float32Array.from(importance).sort();
  const chosen = new Set<number>();
  for (let j = n - sample; j < n; j++) {
    const t = Math.floor(rng() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  const out = new Float32Array(sample);
  let k = 0;
  for (const i of chosen) out[k++] = importance[i];
  return out.sort();
}

/**
 * Arcee Fusion (mergekit `arcee_fusion`): the expert's change from θ0 is kept where its importance
 * (|τ| times the row's softmax KL divergence) reaches median + 1.5·IQR of the tensor's importances, and
 * θ0 is kept elsewhere. Two models: base and one expert; weights ignored.
 */
export const arceeFusion: MergeTechnique<Params> = {
  name: 'arcee-fusion',
  aliases: ['arcee_fusion'],
  summary:
    "θ0 + τ where the element's importance |τ|·KL(softmax rows) >= median + 1.5·IQR of the tensor's, else θ0; one expert.",
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    toolkits:
      'mergekit `arcee_fusion` (base_model and one other model; quantiles of tensors over 1e6 values from a seeded sample)',
    // One expert interpolated towards θ0: merging copies of it does not return it.
    laws: {},
  },
  dialects: {
    mergekit: {
      method: 'arcee_fusion',
      globals: {},
      perModel: {},
      base: 'task-vectors',
      weights: 'unused',
      params: () => ({}),
    },
  },
  experts: { min: 1, max: 1 },
  parse(raw) {
    const p = parseParams('arcee-fusion', specs, raw);
    requireRange('arcee-fusion', 'sample', p.sample, 0, Infinity);
    return p;
  },
  merge({ shape, base, experts, rng, out: into }, p) {
    const x = experts[0];
    const importance = fusionImportance(x, base, shape);
    const sorted = quantileValues(importance, p.sample, rng);
    const median = quantile(sorted, 0.5);
    const iqr = f(quantile(sorted, 0.75) - quantile(sorted, 0.25));
    const threshold = f(median + f(1.5 * iqr));
    const out = into ?? allocateOutput(base.length);
    for (let i = 0; i < base.length; i++)
      out[i] = importance[i] >= threshold ? f(base[i] + f(x[i] - base[i])) : base[i];
    return out;
  },
};
