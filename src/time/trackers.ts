import { mergeModels, type MergeSpec } from '../merge/engine.js';
import { getTechnique } from '../merge/registry.js';
import type { IncrementalMerge } from '../merge/types.js';
import { ParamSet } from '../params/paramset.js';
import type { TensorSource } from '../params/source.js';
import { isPrefixStable, rawTemporalWeight, temporalWeights, type DeployProtocol, type TemporalWeighting } from './protocols.js';
import type { CheckpointStore } from './store.js';

/**
 * A model that follows the stream of experts: after add(θs_1) .. add(θs_t), current() is the protocol's
 * model at step t (θ0 before any add). Init protocols read a tracker before step t's add, deploy
 * protocols after it, so one tracker can serve both. current() results are shared: never modify them.
 * A result stays valid for the step that read it and the next one; later steps may reuse its memory
 * (the EMA tracker writes e_t over e_{t-2}), so keep a clone() to hold a model longer.
 */
export interface Tracker {
  readonly key: string;
  add(expert: ParamSet, step: number): Promise<void>;
  current(): Promise<ParamSet>;
  /** Whether the tracker keeps O(params) state and never re-reads old experts from the store. */
  readonly incremental: boolean;
}

export interface TrackerContext {
  readonly base: ParamSet;
  readonly store: CheckpointStore;
  readonly merge: MergeSpec;
}

/** Which trackers are the same computation (and so may be shared between init and deploy). */
export function trackerKey(d: DeployProtocol): string {
  switch (d.kind) {
    case 'last':
      return 'last';
    case 'merge-all':
      return `merge-all:${d.weighting}:${d.includeBase ? 'with-base' : 'no-base'}`;
    case 'ema':
      return `ema:${d.beta}:${d.seed}`;
    case 'paint':
      return `paint:${d.alpha ?? 0.5}`;
  }
}

export function makeTracker(d: DeployProtocol, ctx: TrackerContext): Tracker {
  switch (d.kind) {
    case 'last':
      return new LastTracker(ctx);
    case 'merge-all':
      return new MergeAllTracker(d.weighting, d.includeBase, ctx);
    case 'ema':
      return new EmaTracker(d.beta, d.seed, ctx);
    case 'paint':
      return new PaintTracker(d.alpha ?? 0.5, ctx);
  }
}

class LastTracker implements Tracker {
  readonly key = 'last';
  readonly incremental = true;
  private last: ParamSet | undefined;
  constructor(private readonly ctx: TrackerContext) {}
  async add(expert: ParamSet, _step?: number): Promise<void> {
    this.last = expert;
  }
  async current(): Promise<ParamSet> {
    return this.last ?? this.ctx.base;
  }
}

/** merge([θs_t, θ0]) with weights [α, 1-α] (WiSE-FT / PAINT interpolation towards the base). */
class PaintTracker implements Tracker {
  readonly key: string;
  readonly incremental = true;
  private last: ParamSet | undefined;
  private cached: ParamSet | undefined;
  constructor(
    private readonly alpha: number,
    private readonly ctx: TrackerContext,
  ) {
    this.key = `paint:${alpha}`;
  }
  async add(expert: ParamSet, _step?: number): Promise<void> {
    this.last = expert;
    this.cached = undefined;
  }
  async current(): Promise<ParamSet> {
    if (!this.last) return this.ctx.base;
    this.cached ??= await mergeModels({ ...this.ctx.merge, weights: [this.alpha, 1 - this.alpha] }, this.ctx.base, [this.last, this.ctx.base]);
    return this.cached;
  }
}

/**
 * e_t = merge([θs_t, e_{t-1}]) with weights [β, 1-β]; e_0 = θ0 (seed 'base') or e_1 = θs_1 (seed 'first').
 * Holds one model: the previous experts are never read again. With weighted averaging the weight of
 * expert i after step t is β(1-β)^(t-i) (and (1-β)^(t-1) for θs_1 when seeded with it).
 */
class EmaTracker implements Tracker {
  readonly key: string;
  readonly incremental = true;
  private state: ParamSet | undefined;
  /** Whether `state` is a model this tracker made (not θ0, not a stored expert). */
  private owned = false;
  /** e_{t-2}: memory the next step may write into. */
  private spare: ParamSet | undefined;
  constructor(
    private readonly beta: number,
    private readonly seed: 'base' | 'first',
    private readonly ctx: TrackerContext,
  ) {
    this.key = `ema:${beta}:${seed}`;
  }
  async add(expert: ParamSet, _step?: number): Promise<void> {
    if (!this.state && this.seed === 'first') {
      this.state = expert;
      return;
    }
    const prev = this.state ?? this.ctx.base;
    // e_{t-2}, made by this tracker, is written over in place (no fresh model-sized allocation per step),
    // unless the new expert shares memory with it (a trainer that returned its init unchanged).
    const into = this.spare && !this.spare.sharesMemoryWith(expert) ? this.spare : undefined;
    const next = await mergeModels({ ...this.ctx.merge, weights: [this.beta, 1 - this.beta] }, this.ctx.base, [expert, prev], { into });
    this.spare = this.owned ? this.state : undefined;
    this.state = next;
    this.owned = true;
  }
  async current(): Promise<ParamSet> {
    return this.state ?? this.ctx.base;
  }
}

/** Techniques whose result depends on the per-expert weights only through their normalised values. */
const LINEAR_TECHNIQUES = new Set(['weighted-average', 'task-arithmetic']);
/** Techniques that ignore per-expert weights altogether. */
const WEIGHT_FREE_TECHNIQUES = new Set(['magmax']);

/**
 * merge(θs_1..θs_t) (θ0 first when includeBase) with temporal weights. With a linear technique and a
 * weighting whose raw weights do not change as experts arrive (all but reverse-*), it keeps the
 * technique's O(params) running form; otherwise it streams every stored expert through the merge
 * engine tensor by tensor at each call. Merging a single model with a technique that needs two
 * (model-stock, slerp) gives that model.
 */
export class MergeAllTracker implements Tracker {
  readonly key: string;
  readonly incremental: boolean;
  private count = 0;
  private readonly minModels: number;
  private running: IncrementalMerge | undefined;
  private cached: ParamSet | undefined;
  private readonly sumsTaskVectors: boolean;

  constructor(
    private readonly weighting: TemporalWeighting,
    private readonly includeBase: boolean,
    private readonly ctx: TrackerContext,
    options: { forceRecompute?: boolean } = {},
  ) {
    this.key = `merge-all:${weighting}:${includeBase ? 'with-base' : 'no-base'}`;
    const technique = getTechnique(ctx.merge.technique);
    // Task arithmetic with normalize: false is λ on the SUM of task vectors (fomo_in_flux tv_merge): the
    // temporal weights are scaled to mean 1, so uniform weighting gives θ0 + λ Σ τ_k.
    this.sumsTaskVectors = technique.name === 'task-arithmetic' && ctx.merge.params?.normalize === false;
    const linear = LINEAR_TECHNIQUES.has(technique.name) && isPrefixStable(weighting) && (!this.sumsTaskVectors || weighting === 'uniform');
    const weightFree = WEIGHT_FREE_TECHNIQUES.has(technique.name);
    this.minModels = technique.experts.min;
    this.incremental = !options.forceRecompute && technique.incremental !== undefined && (linear || weightFree);
    if (this.incremental) {
      // Temporal weights are normalised, so normalising inside the running form gives the same model
      // (uniform raw weights are all 1, so the unnormalised running sum is the task-vector sum).
      const params = technique.parse(linear && !this.sumsTaskVectors ? { ...(ctx.merge.params ?? {}), normalize: true } : (ctx.merge.params ?? {}));
      this.running = technique.incremental!(params, ctx.base);
      if (includeBase) this.running.add(ctx.base, rawTemporalWeight(weighting, 1, 1));
    }
  }

  private get offset(): number {
    return this.includeBase ? 1 : 0;
  }

  async add(expert: ParamSet, _step?: number): Promise<void> {
    this.count++;
    this.cached = undefined;
    if (this.running) {
      const i = this.count + this.offset;
      this.running.add(expert, rawTemporalWeight(this.weighting, i, i));
    }
  }

  async current(): Promise<ParamSet> {
    if (this.count === 0) return this.ctx.base;
    if (this.cached) return this.cached;
    this.cached = this.running ? this.running.result() : await this.recompute();
    return this.cached;
  }

  /** The batch merge over the store, one tensor at a time. */
  async recompute(): Promise<ParamSet> {
    if (this.count === 0) return this.ctx.base;
    const opened = [];
    try {
      for (let s = 1; s <= this.count; s++) opened.push(await this.ctx.store.open(s));
      const sources: TensorSource[] = [...(this.includeBase ? [this.ctx.base] : []), ...opened.map((o) => o.source)];
      // A technique that needs two models (model-stock, slerp) merging one: that model itself.
      if (sources.length < this.minModels) return await ParamSet.fromSource(sources[0], 'merge-all');
      const n = sources.length;
      const weights = temporalWeights(this.weighting, n).map((w) => (this.sumsTaskVectors ? w * n : w));
      return await mergeModels({ ...this.ctx.merge, weights }, this.ctx.base, sources);
    } finally {
      for (const o of opened) await o.close();
    }
  }
}

