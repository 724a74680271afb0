import { ParamSet } from '../params/paramset.js';
import { matmul, svd } from '../params/svd.js';
import { num, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import { addToBase, FUSION_BENCH_CONTINUAL_INERT, inListedOrder, isLinearWeight, taskMatrix } from './svd-merge.js';
import type { MergeSources, MergeTechnique } from './types.js';

const specs = {
  alpha: num(
    0.5,
    'Share of the running merge’s singular-value mass whose directions the new task vector is kept out of (FusionBench alpha).',
  ),
};
type Params = ParamsOf<typeof specs>;

/**
 * The part of τ that OPCM keeps against the running task matrix M = U diag(s) Vᵀ (m×n, thin SVD): with
 * P = Uᵀ τ V, the diagonal P_ii and the top-left r×r block are removed, r the first index where the
 * cumulative share of Σ s passes alpha: τ − U Z Vᵀ. (FusionBench takes full U and V; the directions past
 * min(m, n) are never zeroed, so they pass through τ unchanged and the thin SVD gives the same result.)
 */
export function opcmClean(M: ArrayLike<number>, tau: Float64Array, m: number, n: number, alpha: number): Float64Array {
  const d = svd(M, m, n);
  const k = d.k;
  let total = 0;
  for (const s of d.s) total += s;
  let split = 0;
  // argmax of (cumsum/sum > alpha): the first index past alpha, 0 when none is (or M is zero).
  for (let i = 0, c = 0; i < k; i++) {
    c += d.s[i];
    if (c / total > alpha) {
      split = i;
      break;
    }
  }
  const ut = new Float64Array(k * m);
  for (let a = 0; a < m; a++) for (let j = 0; j < k; j++) ut[j * m + a] = d.u[a * k + j];
  const v = new Float64Array(n * k);
  for (let j = 0; j < k; j++) for (let b = 0; b < n; b++) v[b * k + j] = d.vt[j * n + b];
  const P = matmul(matmul(ut, tau, k, m, n), v, k, n, k);
  const Z = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    Z[i * k + i] = P[i * k + i];
    if (i < split) for (let j = 0; j < split; j++) Z[i * k + j] = P[i * k + j];
  }
  const removed = matmul(matmul(d.u, Z, m, k, k), d.vt, m, k, n);
  const out = new Float64Array(tau.length);
  for (let i = 0; i < out.length; i++) out[i] = tau[i] - removed[i];
  return out;
}

/**
 * OPCM keeps M_t, the running sum of cleaned task vectors (FusionBench's λ_{t-1}·τ_merged^(t-1) before
 * its rescale, which is exactly M_{t-1}), and Σ_k ‖τ_k‖ over whole models. The running merge is
 * θ0 + M_t·mean_k‖τ_k‖ / ‖M_t‖: the merged task vector keeps the experts' mean norm (λ_t ≈ √t).
 */
export function opcmStep(
  M: Float32Array | undefined,
  tau: Float64Array,
  name: string,
  shape: readonly number[],
  alpha: number,
): Float32Array {
  if (!M) return Float32Array.from(tau);
  const add = isLinearWeight(name, shape) ? opcmClean(M, tau, shape[0], shape[1], alpha) : tau;
  const out = new Float32Array(M.length);
  for (let i = 0; i < out.length; i++) out[i] = M[i] + add[i];
  return out;
}

const sumSq = (x: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
};

/** OPCM's running merge over a stream of whole models, one expert per add (the TIME tracker's state). */
export class OpcmRunning {
  private readonly sums = new Map<string, Float32Array>();
  private normSum = 0;
  count = 0;
  constructor(
    private readonly base: ParamSet,
    private readonly alpha: number,
  ) {}
  add(expert: ParamSet): void {
    let sq = 0;
    for (const [name, t] of this.base.entries()) {
      const tau = taskMatrix(expert.data(name), t.data);
      sq += sumSq(tau);
      this.sums.set(name, opcmStep(this.sums.get(name), tau, name, t.shape, this.alpha));
    }
    this.normSum += Math.sqrt(sq);
    this.count++;
  }
  /** θ0 before any add; then θ0 + M·mean‖τ‖/‖M‖. */
  current(label = 'opcm'): ParamSet {
    if (this.count === 0) return this.base;
    let sq = 0;
    for (const m of this.sums.values()) sq += sumSq(m);
    const scale = opcmScale(this.normSum / this.count, sq);
    const out = new ParamSet(label);
    for (const [name, t] of this.base.entries())
      out.set(name, t.shape, addToBase(t.data, this.sums.get(name)!, scale), t.dtype);
    return out;
  }
}

/** mean‖τ‖/‖M‖; 0 when M is all zeros (every expert equals θ0), where FusionBench divides by zero. */
function opcmScale(meanNorm: number, sumSqM: number): number {
  return sumSqM > 0 ? meanNorm / Math.sqrt(sumSqM) : 0;
}

/** The recursion over every tensor of the sources, tensor by tensor, with the model-wide norms. */
async function opcmOver(sources: MergeSources, alpha: number): Promise<Prepared> {
  const sums = new Map<string, Float32Array>();
  const sq = new Float64Array(sources.experts.length);
  for (const { name, shape } of sources.base.tensorInfos()) {
    const base = await sources.base.read(name);
    const experts = await Promise.all(sources.experts.map((e) => e.read(name)));
    sums.set(name, opcmTensor(name, shape, base, experts, alpha, sq));
  }
  return prepared(sums, sq);
}

function opcmOverTensor(
  name: string,
  shape: readonly number[],
  base: Float32Array,
  experts: readonly Float32Array[],
  alpha: number,
): Prepared {
  const sq = new Float64Array(experts.length);
  return prepared(new Map([[name, opcmTensor(name, shape, base, experts, alpha, sq)]]), sq);
}

/** M_T of one tensor; adds each expert's squared task-vector norm there to sq. */
function opcmTensor(
  name: string,
  shape: readonly number[],
  base: Float32Array,
  experts: readonly Float32Array[],
  alpha: number,
  sq: Float64Array,
): Float32Array {
  let M: Float32Array | undefined;
  experts.forEach((x, k) => {
    const tau = taskMatrix(x, base);
    sq[k] += sumSq(tau);
    M = opcmStep(M, tau, name, shape, alpha);
  });
  return M!;
}

function prepared(sums: Map<string, Float32Array>, sq: Float64Array): Prepared {
  let sqM = 0;
  for (const m of sums.values()) sqM += sumSq(m);
  let normSum = 0;
  for (const s of sq) normSum += Math.sqrt(s);
  return { sums, scale: opcmScale(normSum / sq.length, sqM) };
}

interface Prepared {
  readonly sums: Map<string, Float32Array>;
  readonly scale: number;
}

/**
 * OPCM (Tang et al. 2025, "Merging Models on the Fly Without Retraining", FusionBench `opcm`) over the
 * experts in the order given: each new task vector, for linear-layer weights, is projected out of the
 * running merge's dominant singular directions and its diagonal, then added; other tensors add τ as is;
 * the sum is rescaled to the experts' mean task-vector norm (over the whole model). The first expert is
 * the running merge's start. Weights are ignored. The whole recursion runs in prepare (it needs the
 * model-wide norms), keeping one model-sized sum; merge() then scales it.
 */
export const opcm: MergeTechnique<Params> = {
  name: 'opcm',
  aliases: ['OPCM', 'OPCMForCLIP'],
  summary:
    'Continual merge in order: each τ projected out of the running merge’s top singular directions (per linear weight), summed, rescaled to the mean ‖τ‖.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    cost: 'svd',
    toolkits: 'FusionBench `opcm` (`alpha`; the models in the order listed, `shuffle_order: false`)',
    laws: {},
  },
  dialects: {
    fusion_bench: fusionBench('opcm/opcm', {
      aliases: ['opcm'],
      globals: { alpha: 0.5, shuffle_order: true },
      inert: FUSION_BENCH_CONTINUAL_INERT,
      params: (g) => {
        inListedOrder(g);
        return { alpha: g.alpha };
      },
    }),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('opcm', specs, raw);
    requireRange('opcm', 'alpha', p.alpha, 0, 1);
    return p;
  },
  prepare: (p, sources: MergeSources): Promise<Prepared> => opcmOver(sources, p.alpha),
  merge({ name, shape, base, experts, out }, p, prepared) {
    // Without prepare (one tensor merged on its own), the tensor is the whole model.
    const { sums, scale } = (prepared as Prepared | undefined) ?? opcmOverTensor(name, shape, base, experts, p.alpha);
    const M = sums.get(name);
    if (!M) throw new Error(`opcm: prepare() did not see tensor "${name}"`);
    return addToBase(base, M, scale, out);
  },
};
