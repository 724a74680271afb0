import { DopRunning, dop as dopTechnique, type DopParams } from '../../merge/dop.js';
import { fail } from '../../params/errors.js';
import type { ParamSet } from '../../params/paramset.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import { checkUnitOption, parseNumber } from './options.js';
import type { DeployProtocolDef } from './types.js';

/** FusionBench's dop.yaml alpha. */
export const DOP_ALPHA = 0.8;

export interface DopDeploy {
  readonly kind: 'dop';
  /** Weight of the running merge's loss (the EMA's start when mgda). */
  readonly alpha: number;
  /** MGDA weights (FusionBench's default) or the fixed [alpha, 1 − alpha]. */
  readonly mgda: boolean;
}

/**
 * DoP as a TIME protocol: the running continual merge of the experts in stream order (src/merge/dop.ts,
 * FusionBench `dop` with its dop.yaml defaults: Adam lr 1e-4, 200 steps, EMA β 0.999, svd_epsilon
 * 0.99999, both projections). The stream fixes the order, so shuffle_order has no counterpart. The
 * merge technique of the method is not used: DoP is its own merge.
 */
export const dop: DeployProtocolDef<DopDeploy> = {
  kind: 'dop',
  summary:
    'continual merge (DoP): per linear weight, the running merge and the new expert balanced in their singular subspaces by MGDA (fixed: by alpha)',
  syntax: '[:<alpha>][:fixed]',
  examples: ['dop:0.6', 'dop:0.5:fixed'],
  merges: 'pair',
  parse(options, what) {
    let alpha = DOP_ALPHA;
    let mgda = true;
    for (const o of options) {
      if (o === 'fixed') mgda = false;
      else alpha = checkUnitOption(parseNumber(o, what), what, 'dop alpha');
    }
    return { kind: 'dop', alpha, mgda };
  },
  check(p) {
    checkUnitOption(p.alpha, 'deploy dop', 'dop alpha');
    if (typeof p.mgda !== 'boolean')
      fail('CONFIG', `deploy dop: mgda must be true or false, got ${JSON.stringify(p.mgda)}`);
  },
  label: (p) => `dop${p.alpha === DOP_ALPHA ? '' : `:${p.alpha}`}${p.mgda ? '' : ':fixed'}`,
  key: (p) => `dop:${p.alpha}:${p.mgda}`,
  tracker: (p, ctx) => new DopTracker(p, ctx),
  toInitOptions: (p) => ({ alpha: p.alpha, mgda: p.mgda }),
  fromInitOptions: (o) => ({
    kind: 'dop',
    alpha: checkUnitOption(o.alpha ?? DOP_ALPHA, 'init dop', 'dop alpha'),
    mgda: o.mgda ?? true,
  }),
};

/** Keeps DoP's running merge: one two-model merge per step. */
class DopTracker implements Tracker {
  readonly key: string;
  readonly incremental = true;
  private readonly running: DopRunning;
  constructor(p: DopDeploy, ctx: TrackerContext) {
    this.key = dop.key(p);
    const params: DopParams = dopTechnique.parse({ alpha: p.alpha, mgda: p.mgda });
    this.running = new DopRunning(ctx.base, params);
  }
  async add(expert: ParamSet, _step?: number): Promise<void> {
    this.running.add(expert);
  }
  async current(): Promise<ParamSet> {
    return this.running.current();
  }
}
