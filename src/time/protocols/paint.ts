import { mergeModels } from '../../merge/engine.js';
import { fail } from '../../params/errors.js';
import type { ParamSet } from '../../params/paramset.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import { DEFAULT_ALPHA, checkAlpha, parseNumber } from './options.js';
import type { DeployProtocolDef } from './types.js';

export interface PaintDeploy {
  readonly kind: 'paint';
  /** Weight of the newest expert (θ0 gets 1 - alpha); undefined = DEFAULT_ALPHA. */
  readonly alpha?: number;
}

/** merge([θs_t, θ0]) with weights [α, 1-α]: WiSE-FT / PAINT interpolation towards the base. */
export const paint: DeployProtocolDef<PaintDeploy> = {
  kind: 'paint',
  summary: 'the newest expert interpolated towards θ0 (weight α on the expert)',
  syntax: '[:<alpha>]',
  examples: ['paint:0.75'],
  merges: 'pair',
  parse(options, what) {
    if (options.length > 1) fail('CONFIG', `${what} takes one option (alpha), got "${options.join(':')}"`);
    return options.length
      ? { kind: 'paint', alpha: checkAlpha(parseNumber(options[0], what), what) }
      : { kind: 'paint' };
  },
  check(p) {
    if (p.alpha !== undefined) checkAlpha(p.alpha, 'deploy paint');
  },
  label: (p) => (p.alpha === undefined || p.alpha === DEFAULT_ALPHA ? 'paint' : `paint:${p.alpha}`),
  key: (p) => `paint:${p.alpha ?? DEFAULT_ALPHA}`,
  tracker: (p, ctx) => new PaintTracker(p.alpha ?? DEFAULT_ALPHA, ctx),
  toInitOptions: (p) => ({ alpha: p.alpha ?? DEFAULT_ALPHA }),
  fromInitOptions: (o) => ({ kind: 'paint', alpha: checkAlpha(o.alpha ?? DEFAULT_ALPHA, 'init paint') }),
};

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
    this.cached ??= await mergeModels({ ...this.ctx.merge, weights: [this.alpha, 1 - this.alpha] }, this.ctx.base, [
      this.last,
      this.ctx.base,
    ]);
    return this.cached;
  }
}
