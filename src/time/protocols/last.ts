import type { ParamSet } from '../../params/paramset.js';
import type { Tracker, TrackerContext } from '../trackers.js';
import { noOptions } from './options.js';
import type { DeployProtocolDef } from './types.js';

export interface LastDeploy {
  readonly kind: 'last';
}

/** The newest expert θs_t (θ0 before the first): sequential fine-tuning. */
export const last: DeployProtocolDef<LastDeploy> = {
  kind: 'last',
  summary: 'the newest expert',
  syntax: '',
  examples: [],
  merges: 'nothing',
  parse(options, what) {
    noOptions(what, options);
    return { kind: 'last' };
  },
  check() {},
  label: () => 'last',
  key: () => 'last',
  tracker: (_p, ctx) => new LastTracker(ctx),
  toInitOptions: () => ({}),
  fromInitOptions: () => ({ kind: 'last' }),
};

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
