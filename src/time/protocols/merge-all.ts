import { mergeModels } from '../../merge/engine.js';
import { getTechnique } from '../../merge/registry.js';
import type { IncrementalMerge } from '../../merge/types.js';
import { fail } from '../../params/errors.js';
import { ParamSet } from '../../params/paramset.js';
import type { TensorSource } from '../../params/source.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import type { DeployProtocolDef } from './types.js';
import {
  checkWeighting,
  isPrefixStable,
  rawTemporalWeight,
  temporalWeights,
  type TemporalWeighting,
} from './weighting.js';

export interface MergeAllDeploy {
  readonly kind: 'merge-all';
  readonly includeBase: boolean;
  readonly weighting: TemporalWeighting;
}

/** merge(θs_1..θs_t) with temporal weights (θ0 first with with-base): offline merging of every expert. */
export const mergeAll: DeployProtocolDef<MergeAllDeploy> = {
  kind: 'merge-all',
  summary: 'merge of every expert so far with temporal weights, optionally with θ0 as the oldest model',
  syntax: '[:<weighting>][:with-base]',
  examples: ['merge-all:linear', 'merge-all:reverse-log:with-base'],
  merges: 'all',
  parse(options) {
    let weighting: TemporalWeighting = 'uniform';
    let includeBase = false;
    for (const o of options) {
      if (o === 'with-base') includeBase = true;
      else if (o === 'no-base') includeBase = false;
      else weighting = checkWeighting(o);
    }
    return { kind: 'merge-all', includeBase, weighting };
  },
  check(p) {
    checkWeighting(p.weighting);
    if (typeof p.includeBase !== 'boolean')
      fail('CONFIG', `deploy merge-all: includeBase must be true or false, got ${JSON.stringify(p.includeBase)}`);
  },
  label: (p) =>
    ['merge-all', ...(p.weighting !== 'uniform' ? [p.weighting] : []), ...(p.includeBase ? ['with-base'] : [])].join(
      ':',
    ),
  key: (p) => `merge-all:${p.weighting}:${p.includeBase ? 'with-base' : 'no-base'}`,
  tracker: (p, ctx) => new MergeAllTracker(p.weighting, p.includeBase, ctx),
  toInitOptions: (p) => ({ weighting: p.weighting, includeBase: p.includeBase }),
  fromInitOptions: (o) => ({
    kind: 'merge-all',
    weighting: checkWeighting(o.weighting ?? 'uniform'),
    includeBase: o.includeBase ?? false,
  }),
};

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
    // A technique that sums task vectors as given (task arithmetic with normalize: false, fomo_in_flux
    // tv_merge) gets temporal weights scaled to mean 1, so uniform weighting gives θ0 + λ Σ τ_k.
    this.sumsTaskVectors = technique.facts.sumsTaskVectors?.(ctx.merge.params ?? {}) ?? false;
    // A weighted sum depends on normalised weights only through w_k/Σw; others may ignore weights.
    const linear =
      technique.facts.weights === 'linear' &&
      isPrefixStable(weighting) &&
      (!this.sumsTaskVectors || weighting === 'uniform');
    const weightFree = technique.facts.weights === 'ignored';
    this.minModels = technique.experts.min;
    this.incremental = !options.forceRecompute && technique.incremental !== undefined && (linear || weightFree);
    if (this.incremental) {
      // Temporal weights are normalised, so normalising inside the running form gives the same model
      // (uniform raw weights are all 1, so the unnormalised running sum is the task-vector sum).
      const params = technique.parse(
        linear && !this.sumsTaskVectors ? { ...(ctx.merge.params ?? {}), normalize: true } : (ctx.merge.params ?? {}),
      );
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
