import { ParamSet } from '../params/paramset.js';
import { matmul, svd } from '../params/svd.js';
import { bool, int, num, oneOf, paramDocs, parseParams, requireRange, type ParamsOf } from './params.js';
import { fusionBench } from './toolkit-forms.js';
import { FUSION_BENCH_CONTINUAL_INERT, inListedOrder, isLinearWeight } from './svd-merge.js';
import type { MergeTechnique } from './types.js';

const specs = {
  alpha: num(
    0.8,
    'Weight of the running merge’s loss (1 − alpha: the new model’s); with mgda and ema, the start of the EMA of MGDA’s weights (FusionBench alpha).',
  ),
  mgda: bool(
    true,
    'Weigh the two losses by the min-norm (MGDA) point of their loss-normalised gradients (FusionBench mgda).',
  ),
  ema: bool(true, 'Smooth the MGDA weights with an EMA started at [alpha, 1 − alpha] (FusionBench ema).'),
  emaBeta: num(0.999, 'Decay of that EMA (FusionBench ema_beta).'),
  lr: num(1e-4, 'Adam learning rate (FusionBench lr).'),
  steps: int(200, 'Adam steps per weight matrix and merge (FusionBench num_steps).'),
  svdEpsilon: num(0.99999, 'Share of Σ s whose singular directions each loss projects onto (FusionBench svd_epsilon).'),
  projSpace: oneOf(
    ['uv', 'u', 'v'],
    'uv',
    'Project the difference on the left, right or both singular spaces (FusionBench svd_proj_space).',
  ),
};
export type DopParams = ParamsOf<typeof specs>;

/**
 * The loss Σ_i sol_i·L_i of one model i as a quadratic form: L_i(W) = ‖diag(s) Uᵀ Δ‖² + ‖Δ V diag(s)‖²
 * with Δ = W − W_i and U, s, V the top singular triplets of W_i − W0 holding svdEpsilon of Σ s. Kept as
 * P = U s² Uᵀ (m×m) and Q = V s² Vᵀ (n×n): ∇L_i = 2(PΔ + ΔQ), L_i = ½⟨Δ, ∇L_i⟩.
 */
interface Quadratic {
  readonly target: Float64Array;
  readonly P?: Float64Array;
  readonly Q?: Float64Array;
}

function quadratic(target: Float64Array, tau: Float64Array, m: number, n: number, p: DopParams): Quadratic {
  const d = svd(tau, m, n);
  let total = 0;
  for (const s of d.s) total += s;
  const eps = Math.min(1, p.svdEpsilon);
  // torch.searchsorted(cumsum/sum, eps), left side: how many shares lie below eps.
  let r = 0;
  for (let c = 0; r < d.k; r++) {
    c += d.s[r];
    if (!(c / total < eps)) break;
  }
  const gram = (vecs: Float64Array, dim: number, rowMajorVecs: boolean): Float64Array => {
    // vecs: u (dim×k, column j is vector j) or vt (k×dim, row j is vector j).
    const out = new Float64Array(dim * dim);
    for (let j = 0; j < r; j++) {
      const s2 = d.s[j] * d.s[j];
      for (let a = 0; a < dim; a++) {
        const x = (rowMajorVecs ? vecs[j * dim + a] : vecs[a * d.k + j]) * s2;
        if (x === 0) continue;
        for (let b = 0; b < dim; b++) out[a * dim + b] += x * (rowMajorVecs ? vecs[j * dim + b] : vecs[b * d.k + j]);
      }
    }
    return out;
  };
  return {
    target,
    P: p.projSpace !== 'v' ? gram(d.u, m, false) : undefined,
    Q: p.projSpace !== 'u' ? gram(d.vt, n, true) : undefined,
  };
}

/** ∇L and L at W. */
function lossGrad(q: Quadratic, W: Float64Array, m: number, n: number): { grad: Float64Array; loss: number } {
  const delta = new Float64Array(W.length);
  for (let i = 0; i < W.length; i++) delta[i] = W[i] - q.target[i];
  const grad = new Float64Array(W.length);
  if (q.P) {
    const pd = matmul(q.P, delta, m, m, n);
    for (let i = 0; i < grad.length; i++) grad[i] += 2 * pd[i];
  }
  if (q.Q) {
    const dq = matmul(delta, q.Q, m, n, n);
    for (let i = 0; i < grad.length; i++) grad[i] += 2 * dq[i];
  }
  let loss = 0;
  for (let i = 0; i < W.length; i++) loss += 0.5 * delta[i] * grad[i];
  return { grad, loss };
}

const dotF = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** MGDA's min-norm point of two gradients (Sener & Koltun 2018), as FusionBench's MinNormSolver: weight of the first. */
function minNorm2(v11: number, v12: number, v22: number): number {
  if (v12 >= v11) return 0.999;
  if (v12 >= v22) return 0.001;
  return -1 * ((v12 - v22) / (v11 + v22 - 2 * v12));
}

/**
 * DoP for one linear weight: W starts at the mean of the running merge and the new model and takes
 * `steps` Adam steps (torch's defaults: betas 0.9/0.999, eps 1e-8) on sol_0·L_merged + sol_1·L_new,
 * sol fixed at [alpha, 1 − alpha] or the (EMA-smoothed) MGDA point of the loss-normalised gradients.
 */
export function dopMatrix(
  base: Float32Array,
  merged: Float32Array,
  next: Float32Array,
  m: number,
  n: number,
  p: DopParams,
): Float32Array {
  const len = m * n;
  const targets = [Float64Array.from(merged), Float64Array.from(next)];
  const qs = targets.map((t) => {
    const tau = new Float64Array(len);
    for (let i = 0; i < len; i++) tau[i] = t[i] - base[i];
    return quadratic(t, tau, m, n, p);
  });
  const W = new Float64Array(len);
  for (let i = 0; i < len; i++) W[i] = (targets[0][i] + targets[1][i]) / 2;
  const m1 = new Float64Array(len);
  const v2 = new Float64Array(len);
  let ema = [p.alpha, 1 - p.alpha];
  for (let step = 1; step <= p.steps; step++) {
    const [a, b] = qs.map((q) => lossGrad(q, W, m, n));
    let sol: number[];
    if (p.mgda) {
      // FusionBench divides by the losses as they are; a zero loss (W already equals that model on its
      // subspace, so its gradient is zero too) is left undivided instead of giving NaN.
      const ga = a.grad.map((x) => x / (a.loss || 1));
      const gb = b.grad.map((x) => x / (b.loss || 1));
      const c = minNorm2(dotF(ga, ga), dotF(ga, gb), dotF(gb, gb));
      sol = [c, 1 - c];
      if (p.ema) {
        ema = ema.map((e, i) => p.emaBeta * e + (1 - p.emaBeta) * sol[i]);
        sol = ema;
      }
    } else sol = [p.alpha, 1 - p.alpha];
    const bc1 = 1 - 0.9 ** step;
    const bc2 = 1 - 0.999 ** step;
    const stepSize = p.lr / bc1;
    const sqrtBc2 = Math.sqrt(bc2);
    for (let i = 0; i < len; i++) {
      const g = sol[0] * a.grad[i] + sol[1] * b.grad[i];
      m1[i] = 0.9 * m1[i] + (1 - 0.9) * g;
      v2[i] = 0.999 * v2[i] + (1 - 0.999) * g * g;
      W[i] -= (stepSize * m1[i]) / (Math.sqrt(v2[i]) / sqrtBc2 + 1e-8);
    }
  }
  return Float32Array.from(W);
}

/** One DoP step for one tensor: linear weights optimised, every other tensor the mean of the two models. */
export function dopStep(
  name: string,
  shape: readonly number[],
  base: Float32Array,
  merged: Float32Array,
  next: Float32Array,
  p: DopParams,
): Float32Array {
  if (isLinearWeight(name, shape) && p.steps > 0) return dopMatrix(base, merged, next, shape[0], shape[1], p);
  const out = new Float32Array(base.length);
  for (let i = 0; i < out.length; i++) out[i] = (merged[i] + next[i]) / 2;
  return out;
}

/** DoP's running merge over a stream of whole models (the TIME tracker's state): the first expert, then one step per add. */
export class DopRunning {
  private merged: ParamSet | undefined;
  count = 0;
  constructor(
    private readonly base: ParamSet,
    private readonly params: DopParams,
  ) {}
  add(expert: ParamSet): void {
    this.count++;
    const prev = this.merged;
    if (!prev) {
      this.merged = expert.clone('dop');
      return;
    }
    const out = new ParamSet('dop');
    for (const [name, t] of this.base.entries())
      out.set(name, t.shape, dopStep(name, t.shape, t.data, prev.data(name), expert.data(name), this.params), t.dtype);
    this.merged = out;
  }
  current(): ParamSet {
    return this.merged ?? this.base;
  }
}

/**
 * DoP (dual projections, "Continual Model Merging without Data", NeurIPS 2025; FusionBench `dop`) over
 * the experts in the order given: the first expert starts the running merge; each next one is merged
 * with it per linear weight by Adam on two losses that keep the result close to each model inside that
 * model's dominant singular subspaces (left and right), balanced by MGDA or a fixed alpha; every other
 * tensor is the mean of the running merge and the new model. Deterministic; weights ignored.
 */
export const dop: MergeTechnique<DopParams> = {
  name: 'dop',
  aliases: ['DOP', 'ContinualDOPForCLIP'],
  summary:
    'Continual merge in order: per linear weight, Adam on two subspace-projected losses (running merge, new model) balanced by MGDA; other tensors averaged.',
  params: paramDocs(specs),
  facts: {
    weights: 'ignored',
    readsBase: true,
    perModel: [],
    kernels: [],
    cost: 'svd',
    toolkits: 'FusionBench `dop` (its dop.yaml defaults; the models in the order listed, `shuffle_order: false`)',
    laws: { idempotent: [{}, { mgda: false }] },
  },
  dialects: {
    fusion_bench: fusionBench('dop/dop', {
      aliases: ['dop'],
      globals: {
        shuffle_order: true,
        lr: 1e-4,
        num_steps: 200,
        mgda: true,
        alpha: 0.8,
        ema: true,
        ema_beta: 0.999,
        svd_epsilon: 0.99999,
        svd_proj_space: 'uv',
      },
      inert: FUSION_BENCH_CONTINUAL_INERT,
      params: (g) => {
        inListedOrder(g);
        return {
          lr: g.lr,
          steps: g.num_steps,
          mgda: g.mgda,
          alpha: g.alpha,
          ema: g.ema,
          emaBeta: g.ema_beta,
          svdEpsilon: g.svd_epsilon,
          projSpace: g.svd_proj_space,
        };
      },
    }),
  },
  experts: { min: 1 },
  parse(raw) {
    const p = parseParams('dop', specs, raw);
    requireRange('dop', 'alpha', p.alpha, 0, 1);
    requireRange('dop', 'svdEpsilon', p.svdEpsilon, 0, 1);
    requireRange('dop', 'emaBeta', p.emaBeta, 0, 1);
    requireRange('dop', 'steps', p.steps, 0, 1e6);
    return p;
  },
  merge({ name, shape, base, experts, out }, p) {
    let merged = experts[0];
    for (const x of experts.slice(1)) merged = dopStep(name, shape, base, merged, x, p);
    if (out) {
      out.set(merged);
      return out;
    }
    return merged === experts[0] ? Float32Array.from(merged) : merged;
  },
};
