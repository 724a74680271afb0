import { fail } from '../params/errors.js';
import type { ParamSet } from '../params/paramset.js';
import { mean } from './rows.js';

/**
 * Structural diagnostics of a world's task vectors τ_t = θ_t - θ0 (experts trained from θ0, one per
 * task): the quantities that say whether merging behaves as it does for fine-tuned CLIP models (small
 * task vectors, nearly orthogonal across datasets, energy concentrated in few weights so trimming
 * keeps the gain, a base that is already partly competent). Model-agnostic: any ParamSets.
 */
export interface WorldDiagnostics {
  /** Experts measured. */
  readonly experts: number;
  /** Mean over experts of ‖τ‖ / ‖θ0‖ (whole model). */
  readonly tauRatio: number;
  /** Mean cosine between task vectors of experts from different datasets (NaN with one dataset). */
  readonly crossCosine: number;
  /** Mean cosine between task vectors of different experts of the same dataset (NaN when none). */
  readonly sameCosine: number;
  /** Mean share of Σ τ² held by the top 20% of |τ| entries, over the tensors the expert changed. */
  readonly top20Energy: number;
  /** Share of the experts' accuracy gain over θ0 kept after a TIES trim to density 0.2: Σ(trim - base) / Σ(expert - base). */
  readonly tiesKeep: number;
  /** θ0's mean score on the measured experts' own tasks, and the experts' mean score there. */
  readonly baseScore: number;
  readonly expertScore: number;
}

/** The share of the diagnostics' TIES trim (keep the top 20% of |τ| per tensor, as TIES density 0.2). */
export const TRIM_DENSITY = 0.2;

function norm2(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s;
}

/** τ per changed tensor (tensors the expert left equal to θ0, e.g. a frozen text encoder, are left out). */
export function taskVector(base: ParamSet, expert: ParamSet): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const name of base.names()) {
    if (!expert.has(name)) fail('MISMATCH', `diagnostics: expert lacks tensor "${name}"`);
    const b = base.data(name);
    const e = expert.data(name);
    if (b.length !== e.length)
      fail('MISMATCH', `diagnostics: tensor "${name}" has ${e.length} values in the expert, ${b.length} in θ0`);
    const t = new Float32Array(b.length);
    let moved = false;
    for (let i = 0; i < b.length; i++) {
      t[i] = e[i] - b[i];
      if (t[i] !== 0) moved = true;
    }
    if (moved) out.set(name, t);
  }
  return out;
}

/** Share of Σ τ² in the largest `fraction` of |τ| entries (pooled over the given tensors). */
export function topEnergyShare(tau: Map<string, Float32Array>, fraction = TRIM_DENSITY): number {
  const sq: number[] = [];
  for (const t of tau.values()) for (let i = 0; i < t.length; i++) sq.push(t[i] * t[i]);
  const total = sq.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  sq.sort((a, b) => b - a);
  const keep = Math.max(1, Math.round(fraction * sq.length));
  let top = 0;
  for (let i = 0; i < keep; i++) top += sq[i];
  return top / total;
}

/** θ0 + τ with each changed tensor trimmed to its top `density` fraction by |τ| (TIES' trim step, per tensor). */
export function trimmedExpert(base: ParamSet, expert: ParamSet, density = TRIM_DENSITY): ParamSet {
  const tau = taskVector(base, expert);
  return base.map((b, name) => {
    const t = tau.get(name);
    if (!t) return new Float32Array(b);
    const keep = Math.max(1, Math.round(density * t.length));
    // The `keep` largest |τ|; equal magnitudes go to the earlier index.
    const order = Array.from(t.keys()).sort((i, j) => Math.abs(t[j]) - Math.abs(t[i]) || i - j);
    const out = new Float32Array(b);
    for (let r = 0; r < keep; r++) out[order[r]] += t[order[r]];
    return out;
  }, 'trimmed');
}

/** θ0 + scale · τ over every tensor (scale 0.5: half the task vector). */
export function scaledExpert(base: ParamSet, expert: ParamSet, scale: number): ParamSet {
  return base.map((b, name) => {
    const e = expert.data(name);
    const out = new Float32Array(b.length);
    for (let i = 0; i < b.length; i++) out[i] = b[i] + scale * (e[i] - b[i]);
    return out;
  }, 'scaled');
}

function cosine(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const [name, x] of a) {
    aa += norm2(x);
    const y = b.get(name);
    if (y) for (let i = 0; i < x.length; i++) ab += x[i] * y[i];
  }
  for (const y of b.values()) bb += norm2(y);
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

export interface DiagnosedExpert {
  readonly weights: ParamSet;
  /** Which dataset the expert's task came from (cross-dataset cosine pairs differ here). */
  readonly dataset: string | number;
  /** Scores on the expert's own task: θ0, the expert, the expert trimmed to density 0.2 (trimmedExpert). */
  readonly baseScore: number;
  readonly expertScore: number;
  readonly trimmedScore: number;
}

/** The diagnostics from experts trained from `base` and their scores. */
export function diagnose(base: ParamSet, experts: readonly DiagnosedExpert[]): WorldDiagnostics {
  if (experts.length === 0) fail('CONFIG', 'diagnostics need at least one expert');
  let baseSq = 0;
  for (const name of base.names()) baseSq += norm2(base.data(name));
  const taus = experts.map((e) => taskVector(base, e.weights));
  const ratios = taus.map((t) => Math.sqrt([...t.values()].reduce((s, x) => s + norm2(x), 0) / baseSq));
  const cross: number[] = [];
  const same: number[] = [];
  for (let i = 0; i < taus.length; i++) {
    for (let j = i + 1; j < taus.length; j++)
      (experts[i].dataset === experts[j].dataset ? same : cross).push(cosine(taus[i], taus[j]));
  }
  const gain = experts.reduce((s, e) => s + e.expertScore - e.baseScore, 0);
  const kept = experts.reduce((s, e) => s + e.trimmedScore - e.baseScore, 0);
  return {
    experts: experts.length,
    tauRatio: mean(ratios),
    crossCosine: mean(cross),
    sameCosine: mean(same),
    top20Energy: mean(taus.map((t) => topEnergyShare(t)).filter(Number.isFinite)),
    tiesKeep: gain === 0 ? NaN : kept / gain,
    baseScore: mean(experts.map((e) => e.baseScore)),
    expertScore: mean(experts.map((e) => e.expertScore)),
  };
}

/** Where the diagnostics should lie for a world to behave like fine-tuned CLIP models (docs/synthetic.md). */
export const TARGET_REGIME = { tauRatio: 0.1, crossCosine: 0.05, tiesKeep: 0.9 } as const;

/** Which regime targets a world meets. */
export function regimeChecks(d: WorldDiagnostics): { tauRatio: boolean; crossCosine: boolean; tiesKeep: boolean } {
  return {
    tauRatio: d.tauRatio <= TARGET_REGIME.tauRatio,
    crossCosine: !(d.crossCosine > TARGET_REGIME.crossCosine),
    tiesKeep: d.tiesKeep >= TARGET_REGIME.tiesKeep,
  };
}
